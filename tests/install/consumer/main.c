/* A program outside the tree that uses the installed libvigil. */
#include <stdio.h>
#include <vigil/vigil.h>

int main(void) {
    vg_queue_params p = vg_queue_params_default();
    vg_queue       *q = NULL;
    if (vg_queue_create(&p, &q) != VG_OK)
        return 1;
    int   x = 42;
    void *out;
    if (vg_queue_push(q, &x, VG_WAIT_NONE) != VG_OK ||
        vg_queue_pop(q, &out, VG_WAIT_NONE) != VG_OK || out != &x)
        return 1;
    vg_queue_destroy(q);
    printf("vigil %s queue ok\n", vg_version());
    return 0;
}
