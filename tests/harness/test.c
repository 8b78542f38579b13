/*
 * test.c - the harness behind test.h.
 */
#define _GNU_SOURCE
#include "test.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil/alloc.h"

static jmp_buf     case_jmp;
static int         case_state; /* 0 running, 1 failed, 2 skipped */
static const char *current_case;

void vg_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "  FAIL [%s] %s:%d: ", current_case ? current_case : "?", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    case_state = 1;
    longjmp(case_jmp, 1);
}

void vg_test_skip(const char *reason) {
    printf("  SKIPPED [%s]: %s\n", current_case ? current_case : "?", reason);
    fflush(stdout);
    case_state = 2;
    longjmp(case_jmp, 1);
}

/* Runs one case; separate from the loop so no loop variable lives across setjmp. */
static int run_case(const vg_test_case *c) {
    current_case = c->name;
    case_state   = 0;
    printf("case: %s\n", c->name);
    fflush(stdout);
    if (setjmp(case_jmp) == 0)
        c->fn();
    if (case_state == 0)
        printf("  ok\n");
    return case_state;
}

int vg_test_main(int argc, char **argv, const vg_test_case *cases) {
    int run = 0, failed = 0, skipped = 0;
    for (const vg_test_case *c = cases; c->name; c++) {
        if (argc > 1) {
            bool wanted = false;
            for (int i = 1; i < argc; i++)
                if (!strcmp(argv[i], c->name))
                    wanted = true;
            if (!wanted)
                continue;
        }
        run++;
        int state = run_case(c);
        if (state == 1)
            failed++;
        else if (state == 2)
            skipped++;
    }
    current_case = NULL;
    printf("%d passed, %d failed, %d skipped\n", run - failed - skipped, failed, skipped);
    if (run == 0) {
        fprintf(stderr, "no test case matched\n");
        return 1;
    }
    if (failed)
        return 1;
    if (skipped == run)
        return 77;
    return 0;
}

/* ---- test data ----------------------------------------------------------- */

static bool is_dir(const char *p) {
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *vg_test_source_dir(void) {
    const char *s = getenv("VIGIL_SOURCE_DIR");
    return s && *s ? s : ".";
}

const char *vg_test_shared_dir(void) {
    static char buf[4096];
    const char *env = getenv("VIGIL_SHARED");
    if (env && *env)
        return is_dir(env) ? env : NULL;
    char rel[4096];
    snprintf(rel, sizeof(rel), "%s/../shared", vg_test_source_dir());
    /* absolute, so that paths made from it (symlinks in temporary folders) work anywhere
     * when a test binary is run by hand from the build folder */
    if (is_dir(rel) && realpath(rel, buf))
        return buf;
    return NULL;
}

const char *vg_test_require_shared(const char *sub) {
    static char buf[4096];
    const char *dir = vg_test_shared_dir();
    if (!dir) {
        const char *env = getenv("VIGIL_SHARED");
        if (env && *env) {
            snprintf(buf, sizeof(buf),
                     "VIGIL_SHARED=%s is not a folder; point it at the shared reference folder",
                     env);
            vg_test_skip(buf);
        }
        vg_test_skip("shared reference folder not found (../shared beside the repo); "
                     "set VIGIL_SHARED to its path to run this test");
    }
    snprintf(buf, sizeof(buf), "%s%s%s", dir, sub && *sub ? "/" : "", sub ? sub : "");
    if (sub && *sub && access(buf, R_OK) != 0) {
        static char msg[4200];
        snprintf(msg, sizeof(msg), "%s is missing from the shared folder", buf);
        vg_test_skip(msg);
    }
    return buf;
}

void *vg_test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        ((char *)buf)[n] = '\0';
        if (size)
            *size = (size_t)n;
    }
    return buf;
}

/* ---- out-of-memory injection ---------------------------------------------- */

static atomic_long oom_fail_at, oom_count, oom_live;

/* Each block carries a 16-byte header so frees can be counted. */
static void *oom_malloc(size_t size, void *user) {
    (void)user;
    long n = atomic_fetch_add(&oom_count, 1);
    if (n >= atomic_load(&oom_fail_at))
        return NULL;
    unsigned char *p = malloc(size + 16);
    if (!p)
        return NULL;
    atomic_fetch_add(&oom_live, 1);
    return p + 16;
}

static void *oom_realloc(void *ptr, size_t size, void *user) {
    (void)user;
    if (!ptr)
        return oom_malloc(size, NULL);
    long n = atomic_fetch_add(&oom_count, 1);
    if (n >= atomic_load(&oom_fail_at))
        return NULL;
    unsigned char *p = realloc((unsigned char *)ptr - 16, size + 16);
    return p ? p + 16 : NULL;
}

static void oom_free(void *ptr, void *user) {
    (void)user;
    if (!ptr)
        return;
    atomic_fetch_sub(&oom_live, 1);
    free((unsigned char *)ptr - 16);
}

void vg_test_oom_begin(long fail_at) {
    atomic_store(&oom_fail_at, fail_at < 0 ? LONG_MAX : fail_at);
    atomic_store(&oom_count, 0);
    atomic_store(&oom_live, 0);
    vg_alloc_hooks h = {oom_malloc, oom_realloc, oom_free, NULL};
    vg_alloc_set_hooks(&h);
}

long vg_test_oom_end(void) {
    vg_alloc_set_hooks(NULL);
    return atomic_load(&oom_live);
}

long vg_test_oom_count(void) {
    return atomic_load(&oom_count);
}

void vg_test_oom_sweep(vg_status (*body)(void *arg), void (*cleanup)(void *arg), void *arg,
                       long max_steps) {
    for (long k = 0; k < max_steps; k++) {
        vg_test_oom_begin(k);
        vg_status st = body(arg);
        if (st == VG_OK) {
            cleanup(arg);
            long live = vg_test_oom_end();
            VG_CHECK_MSG(live == 0, "after success at step %ld, %ld blocks leaked", k, live);
            VG_CHECK_MSG(k > 0, "body never allocated: the sweep tested nothing");
            return;
        }
        long live = vg_test_oom_end();
        VG_CHECK_MSG(st == VG_E_NOMEM, "allocation %ld failed: expected VG_E_NOMEM, got %s", k,
                     vg_status_name(st));
        VG_CHECK_MSG(live == 0, "allocation %ld failed: %ld blocks leaked", k, live);
    }
    vg_test_fail(__FILE__, __LINE__, "body still failing after %ld allocation steps", max_steps);
}
