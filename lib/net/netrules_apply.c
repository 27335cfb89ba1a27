/* Applying and removing a container's rules: iptables-restore / iptables-save (absolute paths
 * from the policy, argv built by hand, fork + execve, never a shell; netrules_sys.c), a record
 * of what was applied in <state_dir>/net/<id>.json, every change serialized under a lock in that
 * directory, and a cgroup v2 group for the sandbox when the egress rules need one.
 *
 * Invariants that make every operation idempotent and crash-safe:
 *   - the record is written before anything is changed, and removed after everything is undone:
 *     rules or a cgroup without a record can only be left by a crash, and gc removes them;
 *   - one container's chains and jumps are added in one iptables-restore transaction per
 *     family, and removed in one: a reader never sees half a container;
 *   - all of it happens with <state_dir>/net/.lock held, so the check-then-create of the shared
 *     chains cannot race with another runsc-host process.
 * The IPv4 and IPv6 transactions and the move of the sandbox into its group are independent and
 * run at the same time: each can wait for a kernel RCU grace period (rule deletion in nf_tables,
 * process migration between cgroups), and waiting for them one after the other would add up. */
#include "netrules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "container_id.h"
#include "fsutil.h"
#include "netrules_records.h"
#include "netrules_sys.h"
#include "policy.h"
#include "util.h"

/* ---- the time budget (rh_netrules_set_budget) ---- */

static int64_t budget_end_ms; /* CLOCK_MONOTONIC; 0: none */

void
rh_netrules_set_budget (int budget_ms)
{
  budget_end_ms = budget_ms > 0 ? rh_monotonic_ms () + budget_ms : 0;
  rh_tool_set_deadline (budget_end_ms);
}

/* The part of the budget an apply may spend before it must stop and take itself back. */
static void
budget_for_apply (void)
{
  if (budget_end_ms > 0)
    {
      int64_t now = rh_monotonic_ms ();
      rh_tool_set_deadline (budget_end_ms > now ? now + (budget_end_ms - now) * 2 / 3 : budget_end_ms);
    }
}

/* ---- the two families and their tools ---- */

struct family
{
  int num;             /* 4 or 6 */
  const char *restore; /* absolute paths from the policy (or the record) */
  const char *save;
};

static void
families (const struct rh_policy *p, struct family f[2])
{
  f[0] = (struct family) { 4, p->ports.iptables_restore, p->ports.iptables_save };
  f[1] = (struct family) { 6, p->ports.ip6tables_restore, p->ports.ip6tables_save };
}

/* --noflush: add to the tables, never replace them. --wait: queue on the xtables lock that the
 * legacy backend takes (20 containers starting at once); the nft backend commits each batch as
 * one kernel transaction and ignores it. */
static const char *const restore_args[] = { "--noflush", "--wait=30", NULL };

static int
restore (const struct family *f, const char *batch, rh_error *err)
{
  return rh_tool_run (f->restore, restore_args, batch, NULL, err);
}

static int
save_table (const struct family *f, struct rh_netrules_table *t, rh_error *err)
{
  static const char *const args[] = { "-t", "filter", NULL };
  _cleanup_free_ char *text = NULL;
  if (rh_tool_run (f->save, args, NULL, &text, err) < 0)
    return -1;
  return rh_netrules_parse_save (text, t, err);
}

/* After an apply batch failed (first): when the shared chains are missing (first container in
 * this network namespace, or an administrator flushed them), create them and try once more. */
static int
bootstrap_and_retry (const struct family *f, const char *batch, const rh_error *first, const struct rh_logger *log,
                     rh_error *err)
{
  struct rh_netrules_table t;
  _cleanup_free_ char *boot = NULL;

  /* A tool that hung is no missing chain: trying again would only hang again. */
  if (first->code == ETIMEDOUT)
    {
      *err = *first;
      return -1;
    }
  if (save_table (f, &t, err) < 0)
    return rh_error_prefix (err, "after %s", first->msg);
  boot = rh_netrules_bootstrap_text (&t);
  rh_netrules_table_free (&t);
  if (boot == NULL)
    {
      *err = *first;
      return -1;
    }
  rh_log_debug (log, "IPv%d: creating chains " RH_NET_CHAIN_IN " and " RH_NET_CHAIN_OUT, f->num);
  if (restore (f, boot, err) < 0)
    return rh_error_prefix (err, "create chains " RH_NET_CHAIN_IN "/" RH_NET_CHAIN_OUT);
  return restore (f, batch, err);
}

/* After the fast removal batch failed (something was already gone): remove exactly what
 * iptables-save shows of id. */
static int
remove_exact (const struct family *f, const char *id, rh_error *err)
{
  _cleanup_free_ char *exact = NULL;
  struct rh_netrules_table t;

  if (save_table (f, &t, err) < 0)
    return -1;
  exact = rh_netrules_del_text_from_table (&t, id);
  rh_netrules_table_free (&t);
  if (exact == NULL)
    return 0;
  return restore (f, exact, err);
}

/* A tool path from a record is used only when it still looks like a system tool: absolute,
 * a regular file owned by root and writable by nobody else. Otherwise the policy's. */
static const char *
trusted_tool (const char *recorded, const char *fallback)
{
  struct stat st;
  if (recorded && recorded[0] == '/' && stat (recorded, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == 0
      && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
    return recorded;
  return fallback;
}

/* ---- the sandbox's cgroup v2 group ---- */

/* Decide which cgroup v2 group the egress rules match, per egress.cgroup_mode:
 *   sandbox: the group runsc put the sandbox in (pure cgroup v2 hosts: the container's cgroup),
 *            refused when it is "/" or holds us (then the rules would hit the sandboxer too);
 *   own:     <cgroup2>/<cgroup_parent>/<id>, created here, the sandbox moved in;
 *   auto:    sandbox when that is allowed, else own (hybrid hosts: runsc manages only the v1
 *            hierarchies and the sandbox inherits the shim's v2 group, "/" here).
 * A sandbox already in <cgroup_parent>/<id> (started there by its launcher) counts as own. */
static int
cgroup_choose (const struct rh_policy *p, const char *id, pid_t pid, struct record *r, const struct rh_logger *log,
               rh_error *err)
{
  struct rh_cg2 c;
  _cleanup_free_ char *sandbox = NULL, *self = NULL, *own = NULL;
  bool sandbox_ok;
  int ret = 0;

  if (rh_cg2_find (&c, err) < 0)
    return -1;
  if (rh_cg2_path_of (pid, &sandbox, err) < 0 || rh_cg2_path_of (0, &self, err) < 0)
    {
      rh_cg2_clear (&c);
      return -1;
    }
  own = rh_xasprintf ("%s/%s/%s", strcmp (c.root, "/") == 0 ? "" : c.root, p->egress.cgroup_parent, id);
  sandbox_ok = strcmp (sandbox, "/") != 0 && !rh_cg2_path_contains (sandbox, self);
  if (p->egress.cgroup_mode == RH_CGROUP_SANDBOX && !sandbox_ok)
    ret = rh_error_set (err, EPERM,
                        "the sandbox's cgroup v2 group %s is shared with runsc-host's own processes (%s): egress "
                        "rules on it would block the sandboxer too (policy key egress.cgroup_mode)",
                        sandbox, self);
  else if (p->egress.cgroup_mode != RH_CGROUP_OWN && sandbox_ok && strcmp (sandbox, own) != 0)
    {
      r->cgroup = steal_pointer (&sandbox);
      r->cgroup_own = false;
      rh_log_debug (log, "container %s: egress rules match the sandbox's cgroup %s", id, r->cgroup);
    }
  else
    {
      r->cgroup = steal_pointer (&own);
      r->cgroup_own = true;
      r->cgroup_dir = rh_xasprintf ("%s/%s/%s", c.mnt, p->egress.cgroup_parent, id);
      r->cgroup_from = strcmp (sandbox, r->cgroup) == 0 ? rh_xstrdup (c.root) : steal_pointer (&sandbox);
    }
  rh_cg2_clear (&c);
  return ret;
}

static int
cgroup_create (const struct record *r, rh_error *err)
{
  _cleanup_free_ char *parent = rh_xstrdup (r->cgroup_dir);
  *strrchr (parent, '/') = '\0';
  /* Another runsc-host (a different state_dir, so a different lock) may remove the empty shared
   * parent between our mkdirs: try again. */
  for (int attempt = 0;; attempt++)
    {
      if (rh_mkdir_p (parent, 0755, err) < 0)
        return -1;
      if (mkdir (r->cgroup_dir, 0755) == 0 || errno == EEXIST)
        return 0;
      if (errno != ENOENT || attempt == 5)
        return rh_error_sys (err, errno, "create cgroup %s", r->cgroup_dir);
    }
}

/* Remove our group: it is empty once the sandbox is gone (a zombie may take a moment). With
 * force, whatever still lives in it goes back where the sandbox came from first. */
static int
cgroup_remove (const struct rh_policy *p, const struct record *r, bool force, const struct rh_logger *log,
               rh_error *err)
{
  struct rh_cg2 c;
  _cleanup_free_ char *prefix = NULL;
  const char *base;
  int ret = 0;

  if (!r->cgroup_own || r->cgroup_dir == NULL)
    return 0;
  /* The record is ours, but check anyway: only a directory named after the container, under the
   * cgroup2 mount, without dot components, is ever removed. */
  if (rh_cg2_find (&c, err) < 0)
    return -1;
  prefix = rh_xasprintf ("%s/", c.mnt);
  base = strrchr (r->cgroup_dir, '/');
  if (!rh_str_has_prefix (r->cgroup_dir, prefix) || base == NULL || strcmp (base + 1, r->id) != 0
      || strstr (r->cgroup_dir, "/./") || strstr (r->cgroup_dir, "/../"))
    {
      rh_cg2_clear (&c);
      return rh_error_set (err, EINVAL, "record of %s names cgroup %s, not one of ours", r->id, r->cgroup_dir);
    }
  for (int i = 0;; i++)
    {
      struct timespec ts = { 0, 2 * 1000 * 1000 };
      if (rmdir (r->cgroup_dir) == 0 || errno == ENOENT)
        break;
      if (errno != EBUSY || i == 50)
        {
          ret = rh_error_sys (err, errno, "remove cgroup %s%s", r->cgroup_dir,
                              errno == EBUSY ? " (processes still in it)" : "");
          break;
        }
      if (force && i == 10 && r->cgroup_from)
        {
          _cleanup_free_ char *from = rh_cg2_dir (&c, r->cgroup_from);
          if (from)
            rh_cg2_evacuate (r->cgroup_dir, from);
        }
      nanosleep (&ts, NULL);
    }
  if (ret == 0)
    {
      /* The shared parent goes too when it is empty (another container may be using it: then
       * rmdir fails and that is fine). Only the policy's own parent is tried. */
      _cleanup_free_ char *parent = rh_xasprintf ("%s/%s", c.mnt, p->egress.cgroup_parent);
      _cleanup_free_ char *mine = rh_xasprintf ("%s/%s", parent, r->id);
      char *slash;
      rh_log_debug (log, "container %s: removed cgroup %s", r->id, r->cgroup_dir);
      if (strcmp (mine, r->cgroup_dir) == 0)
        while (strlen (parent) > strlen (c.mnt) && rmdir (parent) == 0 && (slash = strrchr (parent, '/')))
          *slash = '\0';
    }
  rh_cg2_clear (&c);
  return ret;
}

/* ---- remove, apply, gc ---- */

/* With the lock held. */
static int
remove_locked (const struct rh_policy *p, const char *id, bool force, const struct rh_logger *log, rh_error *err)
{
  struct record r;
  struct family fam[2];
  _cleanup_free_ char *netns = rh_current_netns ();
  int ret;

  ret = rh_net_record_read (p, id, &r, err);
  if (ret <= 0)
    {
      if (ret == 0)
        rh_log_debug (log, "container %s: no firewall rules recorded", id);
      return ret;
    }
  if (!force && rh_net_record_alive (&r))
    {
      rh_log_info (log,
                   "container %s: sandbox process %d is still running; its firewall rules stay until the poststop "
                   "hook or `runsc-host gc` removes them",
                   id, (int) r.pid);
      rh_net_record_clear (&r);
      return 0;
    }
  families (p, fam);
  for (int k = 0; k < 2; k++)
    {
      fam[k].restore = trusted_tool (r.restore[k], fam[k].restore);
      fam[k].save = trusted_tool (r.save[k], fam[k].save);
    }
  if (r.netns && strcmp (r.netns, netns) != 0)
    rh_log_warn (log,
                 "container %s: its rules were applied in another network namespace (%s); `runsc-host gc` run there "
                 "removes them",
                 id, r.netns);
  else
    {
      /* Both families at once; for each, the text we added, and when that no longer matches
       * the kernel's tables, exactly what iptables-save shows. */
      struct rh_tool_run run[2];
      bool started[2] = { false, false };
      rh_error ferr[2];
      ret = 0;
      for (int k = 0; k < 2; k++)
        {
          _cleanup_free_ char *fast = rh_netrules_del_text (id, r.in[k], r.out[k], r.cgroup);
          if (fast && rh_tool_spawn (fam[k].restore, restore_args, fast, &run[k], &ferr[k]) == 0)
            started[k] = true;
        }
      for (int k = 0; k < 2; k++)
        {
          if (!(r.in[k] || r.out[k]))
            continue;
          if (started[k] && rh_tool_finish (&run[k], NULL, &ferr[k]) == 0)
            continue;
          if (ret < 0)
            continue;
          if (started[k] && ferr[k].code == ETIMEDOUT) /* it hung: the exact path would too */
            {
              *err = ferr[k];
              ret = rh_error_prefix (err, "container %s: remove IPv%d rules", id, fam[k].num);
            }
          else if (remove_exact (&fam[k], id, err) < 0)
            ret = rh_error_prefix (err, "container %s: remove IPv%d rules", id, fam[k].num);
        }
      if (ret < 0)
        {
          rh_net_record_clear (&r);
          return -1;
        }
    }
  if (cgroup_remove (p, &r, force, log, err) < 0 || rh_net_record_unlink (p, id, err) < 0)
    {
      rh_net_record_clear (&r);
      return rh_error_prefix (err, "container %s", id);
    }
  rh_log_info (log, "container %s: firewall rules removed", id);
  rh_net_record_clear (&r);
  return 0;
}

static int
remove_common (const struct rh_policy *p, const char *id, bool force, const struct rh_logger *log, rh_error *err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_free_ char *path = NULL;
  struct stat st;

  if (rh_container_id_check (id, err) < 0)
    return -1;
  /* Nothing recorded: nothing of this id to undo (the record is written before anything is
   * changed, and removed after everything is undone; what a crash leaves without one is gc's).
   * No lock to wait for, no state dir to create. */
  path = rh_net_record_path (p, id);
  if (stat (path, &st) < 0 && errno == ENOENT)
    return 0;
  if (force)
    {
      _cleanup_free_ char *marker = rh_net_marker_path (p, id);
      pid_t owner = rh_net_marker_owner (marker);
      if (owner > 0)
        {
          rh_log_debug (log, "container %s: runsc-host delete (pid %d) is removing its rules", id, (int) owner);
          return 0;
        }
    }
  lock = rh_net_lock (p, err);
  if (lock < 0)
    return -1;
  if (!force)
    {
      int ret;
      rh_net_marker_write (p, id);
      ret = remove_locked (p, id, force, log, err);
      rh_net_marker_unlink (p, id);
      return ret;
    }
  return remove_locked (p, id, force, log, err);
}

int
rh_netrules_remove (const struct rh_policy *p, const char *container_id, const struct rh_logger *log, rh_error *err)
{
  return remove_common (p, container_id, false, log, err);
}

bool
rh_netrules_removal_pending (const struct rh_policy *p, const char *container_id)
{
  struct record r;
  rh_error ignored;
  bool pending;

  if (rh_container_id_check (container_id, &ignored) < 0 || rh_net_record_read (p, container_id, &r, &ignored) <= 0)
    return false;
  pending = !rh_net_record_alive (&r);
  rh_net_record_clear (&r);
  return pending;
}

int
rh_netrules_remove_stopped (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                            rh_error *err)
{
  return remove_common (p, container_id, true, log, err);
}

/* The two apply batches run while the sandbox moves into its group; then the ones that failed
 * get the slow path (create the shared chains, try again). */
static int
apply_batches (const struct family fam[2], char *batch[2], const struct record *r, pid_t pid,
               const struct rh_logger *log, rh_error *err)
{
  struct rh_tool_run run[2];
  bool started[2] = { false, false };
  rh_error first[2];
  int ret = 0;

  for (int k = 0; k < 2; k++)
    if (batch[k])
      {
        if (rh_tool_spawn (fam[k].restore, restore_args, batch[k], &run[k], err) < 0)
          {
            ret = -1;
            break;
          }
        started[k] = true;
      }
  if (ret == 0 && r->cgroup_own)
    {
      /* Skipped when its launcher already started it there (a migration is not free). */
      _cleanup_free_ char *now = NULL;
      if ((rh_cg2_path_of (pid, &now, err) < 0 || strcmp (now, r->cgroup) != 0)
          && rh_cg2_move_tree (r->cgroup_dir, pid, err) < 0)
        ret = rh_error_prefix (err, "move the sandbox into its cgroup");
    }
  for (int k = 0; k < 2; k++)
    {
      if (!started[k])
        continue;
      if (rh_tool_finish (&run[k], NULL, &first[k]) == 0 || ret < 0)
        continue;
      if (bootstrap_and_retry (&fam[k], batch[k], &first[k], log, err) < 0)
        ret = rh_error_prefix (err, "IPv%d rules", fam[k].num);
    }
  return ret;
}

int
rh_netrules_apply (const struct rh_policy *p, const struct rh_netrules_request *req, const struct rh_logger *log,
                   rh_error *err)
{
  _cleanup_close_ int lock = -1;
  struct record r;
  struct family fam[2];
  char *batch[2] = { NULL, NULL };
  bool want_out[2], want_in[2];
  char *const *deny[2] = { p->egress.deny4, p->egress.deny6 };
  rh_error undo_err;

  if (rh_container_id_check (req->id, err) < 0)
    return -1;
  if (req->pid <= 1)
    return rh_error_set (err, EINVAL, "container %s: invalid sandbox pid %d", req->id, (int) req->pid);
  families (p, fam);
  want_in[0] = req->n_ports > 0;
  want_in[1] = req->n_ports > 0 && p->ports.ipv6;
  want_out[0] = rh_strv_len (p->egress.deny4) > 0;
  want_out[1] = rh_strv_len (p->egress.deny6) > 0;

  lock = rh_net_lock (p, err);
  if (lock < 0)
    return -1;
  /* Applied before (a hook run twice): undo that first, so the result is the same. */
  if (remove_locked (p, req->id, true, log, err) < 0)
    return -1;
  budget_for_apply ();

  memset (&r, 0, sizeof r);
  r.id = rh_xstrdup (req->id);
  r.pid = req->pid;
  r.start_time = rh_proc_start_time (req->pid);
  r.netns = rh_current_netns ();
  if (r.start_time == 0)
    {
      rh_net_record_clear (&r);
      return rh_error_set (err, ESRCH, "container %s: sandbox process %d is not running", req->id, (int) req->pid);
    }
  if ((want_out[0] || want_out[1]) && cgroup_choose (p, req->id, req->pid, &r, log, err) < 0)
    {
      rh_net_record_clear (&r);
      return rh_error_prefix (err, "container %s", req->id);
    }
  for (int k = 0; k < 2; k++)
    {
      struct rh_netrules_spec spec = { .id = req->id,
                                       .ports = req->ports,
                                       .n_ports = want_in[k] ? req->n_ports : 0,
                                       .deny = want_out[k] ? deny[k] : NULL,
                                       .cgroup_path = r.cgroup };
      r.in[k] = want_in[k], r.out[k] = want_out[k];
      r.restore[k] = rh_xstrdup (fam[k].restore);
      r.save[k] = rh_xstrdup (fam[k].save);
      batch[k] = rh_netrules_add_text (&spec, fam[k].num);
    }
  /* Recorded before anything changes: a crash from here on leaves something gc can find. The
   * group exists before the rules that name it (the kernel resolves --path when the rule is
   * added). */
  if (rh_net_record_write (p, &r, err) < 0 || (r.cgroup_own && cgroup_create (&r, err) < 0)
      || apply_batches (fam, batch, &r, req->pid, log, err) < 0)
    goto fail;
  {
    _cleanup_free_ char *ports = rh_ports_format (req->ports, req->n_ports);
    rh_log_info (log, "container %s: opened ports [%s]%s; egress denied to %zu destinations%s%s", req->id, ports,
                 want_in[1] ? " (IPv4 and IPv6)" : "",
                 rh_strv_len (p->egress.deny4) + rh_strv_len (p->egress.deny6), r.cgroup ? " for cgroup " : "",
                 r.cgroup ? r.cgroup : "");
  }
  rh_tool_set_deadline (budget_end_ms);
  free (batch[0]);
  free (batch[1]);
  rh_net_record_clear (&r);
  return 0;

fail:
  /* Nothing half-applied: take back whatever got in, with the rest of the budget. */
  rh_tool_set_deadline (budget_end_ms);
  if (remove_locked (p, req->id, true, log, &undo_err) < 0)
    rh_log_warn (log, "container %s: undo after failure: %s", req->id, undo_err.msg);
  free (batch[0]);
  free (batch[1]);
  rh_net_record_clear (&r);
  return rh_error_prefix (err, "container %s", req->id);
}

struct gc_ctx
{
  const struct rh_policy *p;
};

static bool
gc_alive (const char *id, void *data)
{
  struct gc_ctx *g = data;
  struct record r;
  rh_error ignored;
  bool alive;
  if (rh_net_record_read (g->p, id, &r, &ignored) <= 0)
    return false;
  alive = rh_net_record_alive (&r);
  rh_net_record_clear (&r);
  return alive;
}

static void
cgroup_sweep (const struct rh_policy *p, const struct rh_logger *log)
{
  struct rh_cg2 c;
  _cleanup_free_ char *parent = NULL;
  rh_error e;
  DIR *d;
  struct dirent *de;
  time_t now = time (NULL);

  if (rh_cg2_find (&c, &e) < 0)
    return;
  parent = rh_xasprintf ("%s/%s", c.mnt, p->egress.cgroup_parent);
  rh_cg2_clear (&c);
  d = opendir (parent);
  while (d && (de = readdir (d)))
    {
      _cleanup_free_ char *dir = NULL, *rec = NULL;
      struct stat st;
      if (rh_container_id_check (de->d_name, &e) < 0)
        continue;
      dir = rh_xasprintf ("%s/%s", parent, de->d_name);
      rec = rh_net_record_path (p, de->d_name);
      if (lstat (dir, &st) < 0 || !S_ISDIR (st.st_mode) || now - st.st_mtime < 60 || access (rec, F_OK) == 0)
        continue;
      if (rmdir (dir) == 0)
        rh_log_info (log, "gc: removed the unrecorded empty cgroup %s", dir);
    }
  if (d)
    closedir (d);
  rmdir (parent);
}

int
rh_netrules_gc (const struct rh_policy *p, bool dry_run, const struct rh_logger *log, size_t *removed,
                rh_error *err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_strv_ char **ids = rh_xmalloc0 (sizeof (char *));
  _cleanup_free_ char *dir = rh_net_dir (p);
  struct family fam[2];
  struct gc_ctx g = { p };
  DIR *d;
  struct dirent *de;

  *removed = 0;
  lock = rh_net_lock (p, err);
  if (lock < 0)
    return -1;
  families (p, fam);

  /* 1. Records whose sandbox is gone: their rules (with the tools that applied them, in this
   * network namespace), their cgroup, the record. */
  d = opendir (dir);
  while (d && (de = readdir (d)))
    {
      size_t len = strlen (de->d_name);
      _cleanup_free_ char *id = NULL;
      struct record r;
      rh_error e;
      bool alive;
      if (len > 9 && strcmp (de->d_name + len - 9, ".removing") == 0)
        {
          /* A marker whose remover is gone (killed mid-way): the record, if any, is handled
           * like any other. */
          _cleanup_free_ char *marker = rh_xasprintf ("%s/%s", dir, de->d_name);
          if (!dry_run && rh_net_marker_owner (marker) == 0)
            unlink (marker);
          continue;
        }
      if (len <= 5 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      id = strndup (de->d_name, len - 5);
      if (id == NULL || rh_container_id_check (id, &e) < 0 || rh_net_record_read (p, id, &r, &e) <= 0)
        continue;
      alive = rh_net_record_alive (&r);
      rh_net_record_clear (&r);
      if (alive)
        continue;
      rh_strv_push (&ids, id);
      if (!dry_run && remove_locked (p, id, true, log, &e) < 0)
        rh_log_warn (log, "gc: %s", e.msg);
    }
  if (d)
    closedir (d);

  /* 2. Rules in this network namespace that no live record accounts for (a record lost, or
   * rules of a runsc-host with another state_dir: all users of one namespace must share it). */
  for (int k = 0; k < 2; k++)
    {
      struct rh_netrules_table t;
      _cleanup_free_ char *batch = NULL;
      _cleanup_strv_ char **dead = rh_xmalloc0 (sizeof (char *));
      bool needed = k == 0 || p->ports.ipv6 || rh_strv_len (p->egress.deny6) > 0;
      bool shared = false;

      if (save_table (&fam[k], &t, err) < 0)
        {
          if (!needed)
            continue;
          return rh_error_prefix (err, "gc: IPv%d", fam[k].num);
        }
      batch = rh_netrules_gc_text (&t, gc_alive, &g, &dead, &shared);
      rh_netrules_table_free (&t);
      for (size_t i = 0; dead[i]; i++)
        if (!rh_strv_contains (ids, dead[i]))
          rh_strv_push (&ids, dead[i]);
      if (batch == NULL)
        continue;
      rh_log_debug (log, "gc: IPv%d batch:\n%s", fam[k].num, batch);
      if (!dry_run && restore (&fam[k], batch, err) < 0)
        return rh_error_prefix (err, "gc: IPv%d", fam[k].num);
      if (shared)
        rh_log_info (log, "gc: IPv%d: no container has rules: %s " RH_NET_CHAIN_IN " and " RH_NET_CHAIN_OUT,
                     fam[k].num, dry_run ? "would remove" : "removed");
    }

  /* 3. Empty own groups nobody records (their runsc-host was killed with its containerd before
   * anything ran delete or poststop). Only groups older than a minute: a younger one may belong
   * to a hook of another state_dir that has just made it and is about to move its sandbox in.
   * rmdir itself refuses a group that holds a process. */
  if (!dry_run)
    cgroup_sweep (p, log);

  for (size_t i = 0; ids[i]; i++)
    rh_log_info (log, "gc: container %s is gone: %s its firewall rules", ids[i], dry_run ? "would remove" : "removed");
  *removed = rh_strv_len (ids);
  return 0;
}
