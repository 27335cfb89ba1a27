/* [hooks] Internal to lib/net/: the lock that serializes every change to the rules, the record
 * of what was applied for a container (<state_dir>/net/<id>.json) and the "being removed"
 * markers (netrules_records.c). Not part of the library's contract. */
#ifndef RH_NETRULES_RECORDS_H
#define RH_NETRULES_RECORDS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "policy.h"

struct record
{
  char *id;
  pid_t pid;
  unsigned long long start_time;
  char *netns;
  char *cgroup;      /* xt_cgroup path, NULL without egress */
  bool cgroup_own;   /* we made that group (and remove it) */
  char *cgroup_dir;  /* its directory (own groups only) */
  char *cgroup_from; /* where the sandbox was before (own groups only) */
  bool in[2], out[2];
  char *restore[2], *save[2]; /* the tools that applied them (the policy may change later) */
};

char *rh_net_dir (const struct rh_policy *p);
int rh_net_lock (const struct rh_policy *p, rh_error *err);
void rh_net_record_clear (struct record *r);
char *rh_net_record_path (const struct rh_policy *p, const char *id);
int rh_net_record_write (const struct rh_policy *p, const struct record *r, rh_error *err);
int rh_net_record_read (const struct rh_policy *p, const char *id, struct record *r, rh_error *err);
int rh_net_record_unlink (const struct rh_policy *p, const char *id, rh_error *err);
bool rh_net_record_alive (const struct record *r);
char *rh_net_marker_path (const struct rh_policy *p, const char *id);
void rh_net_marker_write (const struct rh_policy *p, const char *id);
void rh_net_marker_unlink (const struct rh_policy *p, const char *id);
pid_t rh_net_marker_owner (const char *path);

#endif
