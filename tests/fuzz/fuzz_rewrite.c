/* Fuzz the spec rewrite: any input parsed as a spec is rewritten under a fixed policy (strip and
 * deny modes) with a fake file system. Properties checked, for the core modifiers (root, mounts,
 * devices, network, annotations, mark):
 *   - no crash, leak or sanitizer report;
 *   - idempotency: rewriting the output again succeeds and changes nothing;
 *   - deny mode, when it succeeds, gives exactly the strip-mode result (nothing needed stripping);
 *   - the output carries the policy mark.
 * Then the whole rh_spec_rewrite (with caps, seccomp, gate, hooks) runs too: it may refuse an
 * input, but when it succeeds its output must rewrite to itself. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "policy.h"
#include "spec_rewrite.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char policy_text[]
    = "{\"runsc\": {\"path\": \"/usr/bin/runsc\"},"
      " \"protected_paths\": [\"/run/container_launcher\", \"/run/containerd\", \"/var/lib/containerd\","
      " \"/run/docker.sock\", \"/sys/kernel/security\", \"/tmp/container_launcher\"],"
      " \"protected_devices\": [\"/dev/tpm*\", \"/dev/tpmrm*\", \"/dev/sev*\", \"/dev/kvm\"],"
      " \"protected_mount_action\": \"%s\","
      " \"strip_annotation_prefixes\": [\"dev.gvisor.\"],"
      " \"hook_path\": \"/usr/libexec/runsc-host/runsc-host-hook\"}";

static const char fs_text[]
    = "{\"symlinks\": {\"/var/run\": \"../run\", \"/srv/link\": \"/run/container_launcher\","
      " \"/srv/a\": \"b\", \"/srv/b\": \"../srv/a\", \"/srv/up\": \"../..\", \"/dev/char/10:224\": \"../tpm0\","
      " \"/srv/vol/evil\": \"/run/container_launcher/teeserver.sock\", \"/srv/deep\": \"/run/x\"},"
      " \"devices\": [{\"path\": \"/dev/tpm0\", \"type\": \"c\", \"major\": 10, \"minor\": 224},"
      " {\"path\": \"/dev/tpmrm0\", \"type\": \"c\", \"major\": 253, \"minor\": 65536},"
      " {\"path\": \"/dev/kvm\", \"type\": \"c\", \"major\": 10, \"minor\": 232}]}";

static struct rh_policy *strip_pol, *deny_pol;
static struct rh_resolver *resolver;

static struct rh_policy *
make_policy (const char *action)
{
  char text[sizeof policy_text + 16];
  struct rh_policy *p = NULL;
  rh_error err;
  snprintf (text, sizeof text, policy_text, action);
  if (rh_policy_parse (text, strlen (text), NULL, &p, &err) < 0)
    abort ();
  return p;
}

static void
init (void)
{
  json_t *fs;
  if (resolver)
    return;
  strip_pol = make_policy ("strip");
  deny_pol = make_policy ("deny");
  fs = json_loads (fs_text, 0, NULL);
  resolver = rh_fake_resolver_new (fs, NULL);
  json_decref (fs);
  if (resolver == NULL)
    abort ();
}

static int
core_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  if (!json_is_object (spec))
    return -1;
  if (rh_rewrite_root (spec, ctx, err) < 0 || rh_rewrite_mounts (spec, ctx, err) < 0
      || rh_rewrite_devices (spec, ctx, err) < 0 || rh_rewrite_network (spec, ctx, err) < 0
      || rh_rewrite_annotations (spec, ctx, err) < 0 || rh_rewrite_mark (spec, ctx, err) < 0)
    return -1;
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  json_t *in, *once = NULL, *twice = NULL, *denied = NULL;
  struct rh_rewrite_ctx ctx = { .resolver = NULL, .bundle = "/run/containerd/io.containerd.runtime.v2.task/k8s/c1",
                                .container_id = "c1" };
  rh_error err;
  int r;

  init ();
  ctx.resolver = resolver;
  in = json_loadb ((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
  if (in == NULL)
    return 0;

  ctx.policy = strip_pol;
  once = json_deep_copy (in);
  r = core_rewrite (once, &ctx, &err);
  if (r == 0)
    {
      const char *mark = json_string_value (json_object_get (json_object_get (once, "annotations"),
                                                             RH_ANNOTATION_POLICY));
      if (mark == NULL || strcmp (mark, strip_pol->sha256) != 0)
        abort ();
      twice = json_deep_copy (once);
      if (core_rewrite (twice, &ctx, &err) < 0 || !json_equal (once, twice))
        abort ();
    }

  ctx.policy = deny_pol;
  denied = json_deep_copy (in);
  if (core_rewrite (denied, &ctx, &err) == 0)
    {
      /* Deny mode succeeded: strip mode must have succeeded and stripped nothing, so the two agree
       * except for the policy mark. */
      if (r != 0)
        abort ();
      json_object_set_new (json_object_get (denied, "annotations"), RH_ANNOTATION_POLICY,
                           json_string (strip_pol->sha256));
      if (!json_equal (denied, once))
        abort ();
    }

  /* The whole chain. */
  ctx.policy = strip_pol;
  json_decref (twice);
  twice = NULL;
  json_decref (once);
  once = json_deep_copy (in);
  if (rh_spec_rewrite (once, &ctx, &err) == 0)
    {
      twice = json_deep_copy (once);
      if (rh_spec_rewrite (twice, &ctx, &err) < 0 || !json_equal (once, twice))
        abort ();
    }

  json_decref (in);
  json_decref (once);
  json_decref (twice);
  json_decref (denied);
  return 0;
}
