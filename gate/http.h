/* [gate] Strict HTTP/1.x message parsing on libhttp-parser, with hard caps.
 *
 * Pure: no I/O, no clock, no globals (libhttp-parser's own global header cap is never changed;
 * we enforce ours by feeding at most the remaining header budget). Bytes go in, one request
 * (or one upstream response) comes out, or an HTTP status and a reason to answer with.
 *
 * The request side is what a hostile workload talks to, so it is also the fuzz target
 * (tests/fuzz/fuzz_gate_http.c). It accepts exactly one request per feed cycle: bytes after the
 * end of the first request are not parsed (the connection is then closed after the answer; we
 * do not support pipelining). */
#ifndef GATE_HTTP_H
#define GATE_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GATE_HTTP_MAX_URL 1024
#define GATE_HTTP_MAX_HEADERS 64
#define GATE_HTTP_MAX_CTYPE 128

struct gate_http_limits
{
  size_t max_header_bytes; /* request line + headers, raw bytes */
  size_t max_body_bytes;   /* decoded body */
};

enum gate_http_method
{
  GATE_HTTP_GET = 0,
  GATE_HTTP_POST,
};

enum gate_http_state
{
  GATE_HTTP_INCOMPLETE = 0, /* need more bytes */
  GATE_HTTP_COMPLETE = 1,   /* one whole message parsed */
  GATE_HTTP_FAILED = -1,    /* answer with status/reason, then close */
};

/* A parsed request. path is NUL-terminated and never contains a query string. */
struct gate_http_request
{
  enum gate_http_method method;
  char path[GATE_HTTP_MAX_URL + 1];
  char *body; /* malloc'd, NUL-terminated, may contain NULs; body_len excludes the NUL */
  size_t body_len;
  bool keep_alive;
  bool trailing_bytes; /* bytes followed the request (pipelining): answer, then close */
};

/* The request side's own framing check, run on the raw bytes before libhttp-parser sees them
 * (http.c, strict_scan): the library, built without HTTP_PARSER_STRICT, accepts a space before
 * a header's colon, obsolete line folding, bare-LF line ends, and any two bytes after chunk
 * data. RFC 9112 says a server must answer those with 400 (or may, and a gate should). */
enum gate_http_scan_phase
{
  GATE_SCAN_HEAD = 0,   /* request line and header fields */
  GATE_SCAN_BODY_WAIT,  /* header section ended: chunked or not? */
  GATE_SCAN_CHUNK_SIZE, /* hex digits */
  GATE_SCAN_CHUNK_EXT,  /* after ';' up to CR */
  GATE_SCAN_CHUNK_LF,   /* CR seen after the size line */
  GATE_SCAN_CHUNK_DATA,
  GATE_SCAN_DATA_CR,
  GATE_SCAN_DATA_LF,
  GATE_SCAN_TRAILER,    /* trailer fields after the last chunk: header rules */
  GATE_SCAN_DONE,       /* the message's framing is checked: pass the rest through */
};

struct gate_http_scan
{
  enum gate_http_scan_phase phase;
  bool cr;              /* the previous byte was CR */
  unsigned line;        /* lines ended in this header block (0: the request line) */
  size_t col;           /* bytes in the current line */
  bool in_name;         /* header line: still in the field name */
  unsigned spaces;      /* request line: SPs seen */
  bool prev_sp;         /* request line: the previous byte was SP */
  unsigned hex_digits;
  uint64_t chunk_left;
};

struct gate_http_reader
{
  http_parser parser;
  struct gate_http_scan scan;
  struct gate_http_limits limits;
  bool is_response;

  size_t header_bytes; /* raw bytes fed before the headers were complete */
  unsigned nheaders;
  bool in_field;       /* last header callback was a field (name) */
  char field[32];      /* current header name, lowercased, truncated */
  size_t field_len;
  bool field_truncated;
  bool has_host;
  unsigned content_type_count;

  char url[GATE_HTTP_MAX_URL + 1];
  size_t url_len;
  char content_type[GATE_HTTP_MAX_CTYPE + 1]; /* responses: Content-Type value, truncated */
  size_t content_type_len;

  char *body;
  size_t body_len;
  size_t body_cap;

  bool started;          /* any byte seen */
  bool headers_done;
  bool complete;
  bool trailing;
  int status;            /* FAILED: the HTTP status to answer with */
  const char *reason;    /* FAILED: static text */
};

void gate_http_reader_init (struct gate_http_reader *r, const struct gate_http_limits *limits);
/* A reader for an upstream *response* (the status code lands in parser.status_code). */
void gate_http_response_reader_init (struct gate_http_reader *r, const struct gate_http_limits *limits);
void gate_http_reader_free (struct gate_http_reader *r);

/* Feed bytes. Returns the state; once COMPLETE or FAILED further feeds return the same state.
 * For responses, eof=true says the peer closed (a body delimited by EOF then completes). */
enum gate_http_state gate_http_reader_feed (struct gate_http_reader *r, const char *data, size_t len);
enum gate_http_state gate_http_reader_eof (struct gate_http_reader *r);

/* After COMPLETE on a request reader: move the request out (the reader keeps no body). Returns
 * FAILED (with r->status/reason set) when the request is well-formed HTTP but not acceptable
 * (method, URL form). */
enum gate_http_state gate_http_reader_take (struct gate_http_reader *r, struct gate_http_request *out);
void gate_http_request_free (struct gate_http_request *req);

/* Standard reason phrase ("Too Many Requests"), "Unknown" otherwise. */
const char *gate_http_status_text (int status);

/* Format a complete response. body may be NULL when body_len is 0. extra_headers is a string of
 * complete "Name: value\r\n" lines or NULL. Returns malloc'd bytes in *out and *out_len. */
void gate_http_format_response (int status, const char *content_type, const char *extra_headers,
                                const char *body, size_t body_len, bool keep_alive, char **out,
                                size_t *out_len);

#endif
