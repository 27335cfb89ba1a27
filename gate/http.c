/* [gate] Strict HTTP/1.x parsing with caps; see http.h. */
#include "http.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int
fail (struct gate_http_reader *r, int status, const char *reason)
{
  /* Keep the first failure: it is the one that explains the request. Whatever is wrong with
   * an upstream answer, the workload gets a 502 (Bad Gateway). */
  if (r->status == 0)
    {
      r->status = r->is_response ? 502 : status;
      r->reason = reason;
    }
  return 1; /* non-zero stops libhttp-parser */
}

static struct gate_http_reader *
reader_of (http_parser *p)
{
  return (struct gate_http_reader *) p->data;
}

static int
on_url (http_parser *p, const char *at, size_t len)
{
  struct gate_http_reader *r = reader_of (p);

  if (len > GATE_HTTP_MAX_URL - r->url_len)
    return fail (r, 414, "request target too long");
  memcpy (r->url + r->url_len, at, len);
  r->url_len += len;
  r->url[r->url_len] = '\0';
  return 0;
}

static int
on_header_field (http_parser *p, const char *at, size_t len)
{
  struct gate_http_reader *r = reader_of (p);

  if (!r->in_field)
    {
      /* A new header starts. */
      if (++r->nheaders > GATE_HTTP_MAX_HEADERS)
        return fail (r, 431, "too many header fields");
      r->in_field = true;
      r->field_len = 0;
      r->field_truncated = false;
    }
  for (size_t i = 0; i < len; i++)
    {
      if (r->field_len + 1 >= sizeof r->field)
        {
          r->field_truncated = true;
          break;
        }
      r->field[r->field_len++] = (char) tolower ((unsigned char) at[i]);
    }
  r->field[r->field_len] = '\0';
  return 0;
}

static bool
field_is (const struct gate_http_reader *r, const char *name)
{
  return !r->field_truncated && strcmp (r->field, name) == 0;
}

static int
on_header_value (http_parser *p, const char *at, size_t len)
{
  struct gate_http_reader *r = reader_of (p);
  bool first = r->in_field; /* first fragment of this header's value */

  r->in_field = false;
  if (first && field_is (r, "host"))
    {
      /* RFC 9112 3.2: a request with more than one Host field is a 400. */
      if (!r->is_response && r->has_host)
        return fail (r, 400, "more than one Host header field");
      r->has_host = true;
    }
  if (field_is (r, "content-type"))
    {
      if (first && ++r->content_type_count > 1)
        return fail (r, 400, "more than one Content-Type header field");
      for (size_t i = 0; i < len && r->content_type_len < GATE_HTTP_MAX_CTYPE; i++)
        r->content_type[r->content_type_len++] = at[i];
      r->content_type[r->content_type_len] = '\0';
    }
  return 0;
}

static int
on_headers_complete (http_parser *p)
{
  struct gate_http_reader *r = reader_of (p);

  r->headers_done = true;
  if (p->http_major != 1 || p->http_minor > 1)
    return fail (r, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
  if (r->is_response)
    {
      if ((p->flags & F_CONTENTLENGTH) && p->content_length > r->limits.max_body_bytes)
        return fail (r, 502, "upstream response too large");
      return 0;
    }
  if (p->upgrade || p->method == HTTP_CONNECT)
    return fail (r, 400, "protocol upgrades and CONNECT are not supported");
  if (p->http_minor == 1 && !r->has_host)
    return fail (r, 400, "HTTP/1.1 request without a Host header field");
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > r->limits.max_body_bytes)
    return fail (r, 413, "request body larger than the gate allows");
  return 0;
}

static int
on_body (http_parser *p, const char *at, size_t len)
{
  struct gate_http_reader *r = reader_of (p);

  if (len > r->limits.max_body_bytes - r->body_len)
    return fail (r, r->is_response ? 502 : 413,
                 r->is_response ? "upstream response too large" : "request body larger than the gate allows");
  if (r->body_len + len + 1 > r->body_cap)
    {
      size_t cap = r->body_cap ? r->body_cap : 1024;
      while (cap < r->body_len + len + 1)
        cap *= 2;
      if (cap > r->limits.max_body_bytes + 1)
        cap = r->limits.max_body_bytes + 1;
      r->body = rh_xrealloc (r->body, cap);
      r->body_cap = cap;
    }
  memcpy (r->body + r->body_len, at, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int
on_message_complete (http_parser *p)
{
  struct gate_http_reader *r = reader_of (p);

  r->complete = true;
  /* Stop here: whatever follows belongs to a next message we do not parse. */
  http_parser_pause (p, 1);
  return 0;
}

static const http_parser_settings settings = {
  .on_url = on_url,
  .on_header_field = on_header_field,
  .on_header_value = on_header_value,
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

static void
reader_init (struct gate_http_reader *r, const struct gate_http_limits *limits, enum http_parser_type type)
{
  memset (r, 0, sizeof *r);
  r->limits = *limits;
  r->is_response = type == HTTP_RESPONSE;
  http_parser_init (&r->parser, type);
  r->parser.data = r;
}

void
gate_http_reader_init (struct gate_http_reader *r, const struct gate_http_limits *limits)
{
  reader_init (r, limits, HTTP_REQUEST);
}

void
gate_http_response_reader_init (struct gate_http_reader *r, const struct gate_http_limits *limits)
{
  reader_init (r, limits, HTTP_RESPONSE);
}

void
gate_http_reader_free (struct gate_http_reader *r)
{
  free (r->body);
  r->body = NULL;
  r->body_len = r->body_cap = 0;
}

/* ---- strict framing (requests) ----
 *
 * libhttp-parser as Debian builds it (without HTTP_PARSER_STRICT) is lenient where RFC 9112 is
 * not: it takes "Content-Length : 5" (a space before the colon, which 5.1 says must be a 400),
 * obsolete line folding (5.2), lines ending in a bare LF (2.2), extra spaces in the request
 * line, and any two bytes where CRLF must follow chunk data. Each leniency is a place where two
 * HTTP implementations can disagree about where a header or a message ends. So every request
 * byte is checked here first, by this small state machine, before the parser sees it; the
 * parser still does the rest (methods, versions, lengths, Transfer-Encoding). */

static bool
is_tchar (unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A field-value (or chunk-ext) byte: VCHAR, SP, HTAB or obs-text (RFC 9110 5.5). */
static bool
is_value_byte (unsigned char c)
{
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* One byte (not CR or LF) of the request line or of a header or trailer field line. */
static int
scan_line_byte (struct gate_http_reader *r, unsigned char c)
{
  struct gate_http_scan *s = &r->scan;

  if (s->phase == GATE_SCAN_HEAD && s->line == 0)
    {
      /* request-line = method SP request-target SP HTTP-version: exactly two single spaces. */
      if (c == ' ')
        {
          if (s->col == 0 || s->prev_sp || ++s->spaces > 2)
            return fail (r, 400, "malformed request line (method, target and version are separated by "
                                 "single spaces)");
          s->prev_sp = true;
        }
      else if (c < 0x21 || c == 0x7f)
        return fail (r, 400, "control character or tab in the request line");
      else
        s->prev_sp = false;
      s->col++;
      return 0;
    }
  if (s->col == 0)
    {
      if (c == ' ' || c == '\t')
        return fail (r, 400, "obsolete line folding (a header line that starts with whitespace) is not accepted");
      s->in_name = true;
    }
  s->col++;
  if (!s->in_name)
    return is_value_byte (c) ? 0 : fail (r, 400, "control character in a header field value");
  if (c == ':')
    {
      if (s->col == 1)
        return fail (r, 400, "header field with an empty name");
      s->in_name = false;
      return 0;
    }
  if (c == ' ' || c == '\t')
    return fail (r, 400, "whitespace between a header field name and its colon");
  if (!is_tchar (c))
    return fail (r, 400, "invalid character in a header field name");
  return 0;
}

#define SCAN_REFUSED ((size_t) -1)

/* A line of the header or trailer section ended (CRLF at data[i]). Returns how far the parser
 * may read when the section ended here, 0 when it goes on, SCAN_REFUSED on a refusal. */
static size_t
scan_line_end (struct gate_http_reader *r, size_t i)
{
  struct gate_http_scan *s = &r->scan;

  if (s->col == 0)
    {
      if (s->phase == GATE_SCAN_HEAD && s->line == 0)
        return 0; /* an empty line before the request line may be ignored (RFC 9112 2.2) */
      s->phase = s->phase == GATE_SCAN_HEAD ? GATE_SCAN_BODY_WAIT : GATE_SCAN_DONE;
      return i + 1;
    }
  if (s->phase == GATE_SCAN_HEAD && s->line == 0 && (s->spaces != 2 || s->prev_sp))
    {
      fail (r, 400, "malformed request line (want METHOD SP TARGET SP HTTP-VERSION)");
      return SCAN_REFUSED;
    }
  if (s->in_name)
    {
      fail (r, 400, "header line without a colon");
      return SCAN_REFUSED;
    }
  s->line++;
  s->col = 0;
  return 0;
}

static int
hex_value (unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Check the framing of request bytes about to go to libhttp-parser. Returns how many of them
 * the parser may have now (when the header section ends inside data, only up to its end: the
 * body's framing is judged once the parser has decided whether it is chunked), or SCAN_REFUSED
 * with r->status set. */
static size_t
strict_scan (struct gate_http_reader *r, const char *data, size_t len)
{
  struct gate_http_scan *s = &r->scan;

  if (s->phase == GATE_SCAN_BODY_WAIT)
    {
      if (!r->headers_done)
        {
          /* Our scan saw the header section end and the parser did not: never guess. */
          fail (r, 400, "malformed HTTP header section");
          return SCAN_REFUSED;
        }
      s->phase = (r->parser.flags & F_CHUNKED) ? GATE_SCAN_CHUNK_SIZE : GATE_SCAN_DONE;
    }
  for (size_t i = 0; i < len && s->phase != GATE_SCAN_DONE; i++)
    {
      unsigned char c = (unsigned char) data[i];
      int v;

      switch (s->phase)
        {
        case GATE_SCAN_HEAD:
        case GATE_SCAN_TRAILER:
          if (s->cr)
            {
              size_t end;
              s->cr = false;
              if (c != '\n')
                {
                  fail (r, 400, "bare CR in the header section (lines end in CRLF)");
                  return SCAN_REFUSED;
                }
              end = scan_line_end (r, i);
              if (end != 0)
                return end;
            }
          else if (c == '\r')
            s->cr = true;
          else if (c == '\n')
            {
              fail (r, 400, "a line ends in a bare LF (HTTP/1.1 lines end in CRLF)");
              return SCAN_REFUSED;
            }
          else if (scan_line_byte (r, c) != 0)
            return SCAN_REFUSED;
          break;
        case GATE_SCAN_CHUNK_SIZE:
          v = hex_value (c);
          if (v >= 0 && s->hex_digits < 16)
            {
              s->hex_digits++;
              s->chunk_left = s->chunk_left * 16 + (uint64_t) v;
            }
          else if (s->hex_digits > 0 && (c == ';' || c == '\r'))
            s->phase = c == ';' ? GATE_SCAN_CHUNK_EXT : GATE_SCAN_CHUNK_LF;
          else
            {
              fail (r, 400, "invalid chunk size");
              return SCAN_REFUSED;
            }
          break;
        case GATE_SCAN_CHUNK_EXT:
          if (c == '\r')
            s->phase = GATE_SCAN_CHUNK_LF;
          else if (!is_value_byte (c))
            {
              fail (r, 400, "control character in a chunk extension");
              return SCAN_REFUSED;
            }
          break;
        case GATE_SCAN_CHUNK_LF:
          if (c != '\n')
            {
              fail (r, 400, "a chunk size line does not end in CRLF");
              return SCAN_REFUSED;
            }
          s->hex_digits = 0;
          if (s->chunk_left == 0)
            {
              /* The last chunk: trailer fields follow, under the header rules. */
              s->phase = GATE_SCAN_TRAILER;
              s->line = 1;
              s->col = 0;
            }
          else
            s->phase = GATE_SCAN_CHUNK_DATA;
          break;
        case GATE_SCAN_CHUNK_DATA:
          {
            size_t n = len - i;
            if ((uint64_t) n > s->chunk_left)
              n = (size_t) s->chunk_left;
            s->chunk_left -= n;
            i += n - 1;
            if (s->chunk_left == 0)
              s->phase = GATE_SCAN_DATA_CR;
          }
          break;
        case GATE_SCAN_DATA_CR:
        case GATE_SCAN_DATA_LF:
          if (c != (s->phase == GATE_SCAN_DATA_CR ? '\r' : '\n'))
            {
              fail (r, 400, "chunk data not followed by CRLF");
              return SCAN_REFUSED;
            }
          s->phase = s->phase == GATE_SCAN_DATA_CR ? GATE_SCAN_DATA_LF : GATE_SCAN_CHUNK_SIZE;
          break;
        case GATE_SCAN_BODY_WAIT:
        case GATE_SCAN_DONE:
          break;
        }
    }
  return len;
}

static enum gate_http_state
failed (struct gate_http_reader *r, int status, const char *reason)
{
  fail (r, status, reason);
  return GATE_HTTP_FAILED;
}

static enum gate_http_state
parser_error (struct gate_http_reader *r)
{
  enum http_errno e = HTTP_PARSER_ERRNO (&r->parser);

  if (r->status != 0)
    return GATE_HTTP_FAILED; /* a callback refused and said why */
  if (r->is_response)
    return failed (r, 502, "malformed upstream response");
  switch (e)
    {
    case HPE_INVALID_METHOD:
      return failed (r, 400, "malformed HTTP request (unknown method)");
    case HPE_INVALID_VERSION:
      return failed (r, 505, "invalid HTTP version");
    case HPE_HEADER_OVERFLOW:
      return failed (r, 431, "request header section too large");
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return failed (r, 400, "invalid or conflicting Content-Length");
    case HPE_INVALID_TRANSFER_ENCODING:
      return failed (r, 400, "invalid Transfer-Encoding");
    case HPE_INVALID_CHUNK_SIZE:
      return failed (r, 400, "invalid chunk size");
    default:
      return failed (r, 400, "malformed HTTP request");
    }
}

enum gate_http_state
gate_http_reader_feed (struct gate_http_reader *r, const char *data, size_t len)
{
  if (r->status != 0)
    return GATE_HTTP_FAILED;
  if (r->complete)
    {
      if (len > 0)
        r->trailing = true;
      return GATE_HTTP_COMPLETE;
    }
  if (len > 0)
    r->started = true;
  while (len > 0)
    {
      size_t chunk = len;
      size_t n;
      bool headers_were_done = r->headers_done;

      if (!headers_were_done)
        {
          /* Our own header cap: never hand the parser more header bytes than the budget. */
          if (r->header_bytes >= r->limits.max_header_bytes)
            return failed (r, r->is_response ? 502 : 431,
                           r->is_response ? "upstream response header too large"
                                          : "request header section too large");
          if (chunk > r->limits.max_header_bytes - r->header_bytes)
            chunk = r->limits.max_header_bytes - r->header_bytes;
        }
      if (!r->is_response)
        {
          chunk = strict_scan (r, data, chunk);
          if (chunk == SCAN_REFUSED)
            return GATE_HTTP_FAILED;
        }
      n = http_parser_execute (&r->parser, &settings, data, chunk);
      if (!headers_were_done)
        r->header_bytes += n;
      if (r->status != 0)
        return GATE_HTTP_FAILED;
      if (r->complete)
        {
          if (n < len)
            r->trailing = true;
          return GATE_HTTP_COMPLETE;
        }
      if (HTTP_PARSER_ERRNO (&r->parser) != HPE_OK)
        return parser_error (r);
      if (n != chunk)
        return failed (r, r->is_response ? 502 : 400, "malformed HTTP message");
      data += n;
      len -= n;
    }
  return GATE_HTTP_INCOMPLETE;
}

enum gate_http_state
gate_http_reader_eof (struct gate_http_reader *r)
{
  if (r->status != 0)
    return GATE_HTTP_FAILED;
  if (r->complete)
    return GATE_HTTP_COMPLETE;
  if (!r->is_response)
    return failed (r, 400, "connection closed before the request was complete");
  /* A response body delimited by the end of the connection completes here. */
  http_parser_execute (&r->parser, &settings, NULL, 0);
  if (r->status != 0)
    return GATE_HTTP_FAILED;
  if (r->complete)
    return GATE_HTTP_COMPLETE;
  return failed (r, 502, "upstream closed the connection mid-response");
}

enum gate_http_state
gate_http_reader_take (struct gate_http_reader *r, struct gate_http_request *out)
{
  struct http_parser_url u;

  memset (out, 0, sizeof *out);
  if (!r->complete || r->is_response)
    return failed (r, 500, "no complete request");
  switch (r->parser.method)
    {
    case HTTP_GET:
      out->method = GATE_HTTP_GET;
      break;
    case HTTP_POST:
      out->method = GATE_HTTP_POST;
      break;
    default:
      return failed (r, 405, "method not allowed (the TEE server API uses GET and POST)");
    }
  /* Origin-form only ("/v1/token"): no absolute URLs, no "*", no query, no fragment. */
  if (r->url_len == 0 || r->url[0] != '/')
    return failed (r, 400, "request target must be an absolute path");
  http_parser_url_init (&u);
  if (http_parser_parse_url (r->url, r->url_len, 0, &u) != 0 || !(u.field_set & (1 << UF_PATH)))
    return failed (r, 400, "invalid request target");
  if (u.field_set & ((1 << UF_QUERY) | (1 << UF_FRAGMENT) | (1 << UF_HOST) | (1 << UF_SCHEMA)))
    return failed (r, 400, "query strings and fragments are not accepted");
  if (u.field_data[UF_PATH].len != r->url_len)
    return failed (r, 400, "invalid request target");
  memcpy (out->path, r->url, r->url_len);
  out->path[r->url_len] = '\0';

  out->body = r->body ? r->body : rh_xmalloc0 (1);
  out->body_len = r->body_len;
  r->body = NULL;
  r->body_len = r->body_cap = 0;
  out->keep_alive = http_should_keep_alive (&r->parser) && !r->trailing;
  out->trailing_bytes = r->trailing;
  return GATE_HTTP_COMPLETE;
}

void
gate_http_request_free (struct gate_http_request *req)
{
  free (req->body);
  req->body = NULL;
  req->body_len = 0;
}

const char *
gate_http_status_text (int status)
{
  switch (status)
    {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: break;
    }
  if (status >= 400 && status < 500)
    return "Client Error";
  if (status >= 500 && status < 600)
    return "Server Error";
  return "Unknown";
}

void
gate_http_format_response (int status, const char *content_type, const char *extra_headers, const char *body,
                           size_t body_len, bool keep_alive, char **out, size_t *out_len)
{
  char *head = rh_xasprintf ("HTTP/1.1 %d %s\r\n"
                             "Content-Type: %s\r\n"
                             "Content-Length: %zu\r\n"
                             "Cache-Control: no-store\r\n"
                             "Connection: %s\r\n"
                             "%s"
                             "\r\n",
                             status, gate_http_status_text (status), content_type ? content_type : "text/plain",
                             body_len, keep_alive ? "keep-alive" : "close", extra_headers ? extra_headers : "");
  size_t hlen = strlen (head);
  char *buf = rh_xrealloc (head, hlen + body_len + 1);

  if (body_len > 0)
    memcpy (buf + hlen, body, body_len);
  buf[hlen + body_len] = '\0';
  *out = buf;
  *out_len = hlen + body_len;
}
