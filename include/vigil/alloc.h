/*
 * vigil/alloc.h - allocation through replaceable hooks.
 *
 * All of vigil's own heap memory goes through vg_malloc/vg_calloc/vg_realloc/
 * vg_free (third-party libraries allocate as they like). Tests replace the
 * hooks to inject out-of-memory at the N-th allocation and check that every
 * create function fails cleanly with VG_E_NOMEM and leaks nothing.
 */
#ifndef VG_ALLOC_H
#define VG_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_alloc_hooks {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *user;
} vg_alloc_hooks;

/*
 * Installs hooks (copied); NULL restores the C library's allocator. Not MT
 * safe with respect to allocations in flight: set hooks before starting
 * threads, and free memory with the hooks that allocated it.
 */
void vg_alloc_set_hooks(const vg_alloc_hooks *hooks);

/* Like malloc/calloc/realloc/free. vg_calloc checks n * size for overflow. */
void *vg_malloc(size_t size);
void *vg_calloc(size_t n, size_t size);
void *vg_realloc(void *ptr, size_t size);
void  vg_free(void *ptr);

/* Returns a vg_malloc'ed copy of s (NULL if s is NULL or on failure). */
char *vg_strdup(const char *s);

/*
 * Allocates size bytes aligned to align (a power of two, at most 4096)
 * through the hooks; free with vg_aligned_free (NULL is a no-op).
 */
void *vg_aligned_alloc(size_t align, size_t size);
void  vg_aligned_free(void *ptr);

/* Frees *pp and sets it to NULL. */
#define vg_freep(pp)                                                                               \
    do {                                                                                           \
        vg_free(*(pp));                                                                            \
        *(pp) = NULL;                                                                              \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* VG_ALLOC_H */
