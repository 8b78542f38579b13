/*
 * alloc.c - allocation through replaceable hooks.
 *
 * DESIGN
 * One global hook table, replaced only while no other thread allocates (test
 * set-up). Aligned blocks are carved out of an ordinary hook allocation with
 * the offset stored just before the returned pointer, so a test's failure
 * injection covers them too.
 */
#include "vigil/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *default_malloc(size_t size, void *user) {
    (void)user;
    return malloc(size);
}
static void *default_realloc(void *ptr, size_t size, void *user) {
    (void)user;
    return realloc(ptr, size);
}
static void default_free(void *ptr, void *user) {
    (void)user;
    free(ptr);
}

static vg_alloc_hooks hooks = {default_malloc, default_realloc, default_free, NULL};

void vg_alloc_set_hooks(const vg_alloc_hooks *h) {
    if (h) {
        hooks = *h;
    } else {
        hooks = (vg_alloc_hooks){default_malloc, default_realloc, default_free, NULL};
    }
}

void *vg_malloc(size_t size) {
    return hooks.malloc_fn(size ? size : 1, hooks.user);
}

void *vg_calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t total = n * size;
    void  *p     = vg_malloc(total);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void *vg_realloc(void *ptr, size_t size) {
    return hooks.realloc_fn(ptr, size ? size : 1, hooks.user);
}

void vg_free(void *ptr) {
    if (ptr)
        hooks.free_fn(ptr, hooks.user);
}

char *vg_strdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char  *d = vg_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void *vg_aligned_alloc(size_t align, size_t size) {
    if (align < sizeof(void *))
        align = sizeof(void *);
    if ((align & (align - 1)) || align > 4096 || size > SIZE_MAX - align - sizeof(void *))
        return NULL;
    unsigned char *raw = vg_malloc(size + align + sizeof(void *));
    if (!raw)
        return NULL;
    uintptr_t start        = (uintptr_t)(raw + sizeof(void *));
    uintptr_t aligned      = (start + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)aligned)[-1] = raw;
    return (void *)aligned;
}

void vg_aligned_free(void *ptr) {
    if (ptr)
        vg_free(((void **)ptr)[-1]);
}
