/*
 * dnnl_prim.c - oneDNN primitives from small params structs, run without allocation.
 *
 * DESIGN
 * Every builder follows the same path: fill an op descriptor, build a primitive
 * attribute (user-managed scratchpad + post-ops), create the primitive descriptor
 * and primitive, then record the memory descriptors the primitive wants and create
 * one dnnl_memory_t per argument with no data (DNNL_MEMORY_NONE). Running only calls
 * dnnl_memory_set_data_handle() on those objects and dnnl_primitive_execute(), so the
 * per-run path allocates nothing in vigil or in oneDNN (the scratchpad is the
 * caller's). Primitive descriptors are freed right after creation; the primitive
 * keeps what it needs. oneDNN's global primitive cache makes re-creating the same
 * primitive for another instance cheap.
 */
#include "backends/cpu_dnnl/dnnl_impl.h"

#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"

bool vgi_dnnl_act_alg(vgi_dnnl_act act, float alpha, float beta, dnnl_alg_kind_t *alg, float *a,
                      float *b) {
    *a = 0.f;
    *b = 0.f;
    switch (act) {
    case VGI_DNNL_ACT_NONE:
        return false;
    case VGI_DNNL_ACT_RELU:
        *alg = dnnl_eltwise_relu;
        *a   = alpha;
        return true;
    case VGI_DNNL_ACT_CLIP:
        *alg = dnnl_eltwise_clip_v2;
        *a   = alpha;
        *b   = beta;
        return true;
    case VGI_DNNL_ACT_SIGMOID:
        *alg = dnnl_eltwise_logistic;
        return true;
    case VGI_DNNL_ACT_TANH:
        *alg = dnnl_eltwise_tanh;
        return true;
    case VGI_DNNL_ACT_HARDSWISH:
        *alg = dnnl_eltwise_hardswish;
        return true;
    case VGI_DNNL_ACT_SWISH:
        *alg = dnnl_eltwise_swish;
        *a   = alpha;
        return true;
    case VGI_DNNL_ACT_ELU:
        *alg = dnnl_eltwise_elu;
        *a   = alpha;
        return true;
    case VGI_DNNL_ACT_LINEAR:
        *alg = dnnl_eltwise_linear;
        *a   = alpha;
        *b   = beta;
        return true;
    case VGI_DNNL_ACT_EXP:
        *alg = dnnl_eltwise_exp;
        return true;
    case VGI_DNNL_ACT_ABS:
        *alg = dnnl_eltwise_abs;
        return true;
    case VGI_DNNL_ACT_SQRT:
        *alg = dnnl_eltwise_sqrt;
        return true;
    case VGI_DNNL_ACT_SQUARE:
        *alg = dnnl_eltwise_square;
        return true;
    case VGI_DNNL_ACT_LOG:
        *alg = dnnl_eltwise_log;
        return true;
    case VGI_DNNL_ACT_SOFTPLUS:
        *alg = dnnl_eltwise_soft_relu;
        return true;
    case VGI_DNNL_ACT_GELU_ERF:
        *alg = dnnl_eltwise_gelu_erf;
        return true;
    case VGI_DNNL_ACT_ROUND:
        *alg = dnnl_eltwise_round;
        return true;
    }
    return false;
}

/* An attribute with user scratchpad and the given post-ops. */
static vg_status make_attr(vgi_dnnl *d, int npost, const vgi_dnnl_post *post,
                           dnnl_primitive_attr_t *out) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t       ops  = NULL;
    vg_status             st = vgi_dnnl_check(d, dnnl_primitive_attr_create(&attr), "attr_create");
    if (st != VG_OK)
        return st;
    st = vgi_dnnl_check(d, dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
                        "set_scratchpad_mode");
    if (st != VG_OK)
        goto fail;
    if (npost > 0) {
        if (npost > VGI_DNNL_MAX_POST) {
            snprintf(d->err, sizeof(d->err), "%d post-ops (at most %d)", npost, VGI_DNNL_MAX_POST);
            st = VG_E_INVALID_ARG;
            goto fail;
        }
        st = vgi_dnnl_check(d, dnnl_post_ops_create(&ops), "post_ops_create");
        if (st != VG_OK)
            goto fail;
        for (int i = 0; i < npost; i++) {
            if (post[i].kind == VGI_DNNL_POST_ELTWISE) {
                dnnl_alg_kind_t alg;
                float           a, b;
                if (!vgi_dnnl_act_alg(post[i].act, post[i].alpha, post[i].beta, &alg, &a, &b)) {
                    snprintf(d->err, sizeof(d->err), "post-op %d: no activation", i);
                    st = VG_E_INVALID_ARG;
                    goto fail;
                }
                st = vgi_dnnl_check(d, dnnl_post_ops_append_eltwise(ops, 1.f, alg, a, b),
                                    "post_ops_append_eltwise");
            } else {
                st = vgi_dnnl_check(
                    d, dnnl_post_ops_append_binary(ops, post[i].binary_alg, &post[i].binary_md),
                    "post_ops_append_binary");
            }
            if (st != VG_OK)
                goto fail;
        }
        st = vgi_dnnl_check(d, dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops");
        if (st != VG_OK)
            goto fail;
        dnnl_post_ops_destroy(ops);
    }
    *out = attr;
    return VG_OK;
fail:
    if (ops)
        dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* Adds one execution argument backed by a data-less memory object; returns its index. */
static vg_status add_arg(vgi_dnnl *d, vgi_dnnl_prim *p, int arg, const dnnl_memory_desc_t *md,
                         int *index) {
    VGI_ASSERT(p->nargs < VGI_DNNL_MAX_ARGS);
    dnnl_memory_t m  = NULL;
    vg_status     st = vgi_dnnl_check(d, dnnl_memory_create(&m, md, d->engine, DNNL_MEMORY_NONE),
                                      "dnnl_memory_create");
    if (st != VG_OK)
        return st;
    p->args[p->nargs].arg    = arg;
    p->args[p->nargs].memory = m;
    *index                   = p->nargs++;
    return VG_OK;
}

static void prim_reset(vgi_dnnl_prim *p, vgi_dnnl_prim_kind kind) {
    memset(p, 0, sizeof(*p));
    p->kind  = kind;
    p->a_dst = p->a_wei = p->a_bias = p->a_scratch = -1;
    for (int i = 0; i < VGI_DNNL_MAX_SRC; i++)
        p->a_src[i] = -1;
    for (int i = 0; i < VGI_DNNL_MAX_POST; i++)
        p->a_post[i] = -1;
}

/*
 * Shared tail of every builder: creates the primitive from pd, records the
 * descriptors, and creates the argument memories. Frees pd in all cases.
 */
static vg_status finish(vgi_dnnl *d, vgi_dnnl_prim *p, dnnl_primitive_desc_t pd, int nsrc, bool wei,
                        bool bias, int npost, const vgi_dnnl_post *post) {
    vg_status st = vgi_dnnl_check(d, dnnl_primitive_create(&p->prim, pd), "dnnl_primitive_create");
    if (st != VG_OK)
        goto out;
    p->nsrc = nsrc;
    for (int i = 0; i < nsrc; i++) {
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, i);
        VGI_ASSERT(md);
        p->src_md[i] = *md;
        int arg      = p->kind == VGI_DNNL_PRIM_CONCAT ? DNNL_ARG_MULTIPLE_SRC + i
                       : i == 0                        ? DNNL_ARG_SRC
                                                       : DNNL_ARG_SRC_1;
        if (p->kind == VGI_DNNL_PRIM_REORDER)
            arg = DNNL_ARG_FROM;
        st = add_arg(d, p, arg, md, &p->a_src[i]);
        if (st != VG_OK)
            goto out;
    }
    p->dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    st = add_arg(d, p, p->kind == VGI_DNNL_PRIM_REORDER ? DNNL_ARG_TO : DNNL_ARG_DST, &p->dst_md,
                 &p->a_dst);
    if (st != VG_OK)
        goto out;
    if (wei) {
        p->wei_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        st        = add_arg(d, p, DNNL_ARG_WEIGHTS, &p->wei_md, &p->a_wei);
        if (st != VG_OK)
            goto out;
    }
    if (bias) {
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1);
        st                           = add_arg(d, p, DNNL_ARG_BIAS, md, &p->a_bias);
        if (st != VG_OK)
            goto out;
    }
    for (int i = 0; i < npost; i++) {
        if (post[i].kind != VGI_DNNL_POST_BINARY)
            continue;
        st = add_arg(d, p, DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1, &post[i].binary_md,
                     &p->a_post[i]);
        if (st != VG_OK)
            goto out;
    }
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    p->scratch_bytes              = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (p->scratch_bytes > 0) {
        st = add_arg(d, p, DNNL_ARG_SCRATCHPAD, smd, &p->a_scratch);
        if (st != VG_OK)
            goto out;
    }
out:
    dnnl_primitive_desc_destroy(pd);
    if (st != VG_OK)
        vgi_dnnl_prim_fini(p);
    return st;
}

static vg_status create_pd(vgi_dnnl *d, const void *op_desc, dnnl_primitive_attr_t attr,
                           dnnl_primitive_desc_t *pd, const char *what) {
    vg_status st =
        vgi_dnnl_check(d, dnnl_primitive_desc_create(pd, op_desc, attr, d->engine, NULL), what);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

vg_status vgi_dnnl_conv_create(vgi_dnnl *d, const vgi_dnnl_conv_params *p, vgi_dnnl_prim *out) {
    prim_reset(out, VGI_DNNL_PRIM_CONV);
    if (p->groups < 1 || p->ic % p->groups || p->oc % p->groups) {
        snprintf(d->err, sizeof(d->err),
                 "convolution: %lld groups do not divide %lld/%lld channels", (long long)p->groups,
                 (long long)p->ic, (long long)p->oc);
        return VG_E_INVALID_ARG;
    }
    dnnl_memory_desc_t src, dst, wei, bias;
    dnnl_dims_t        sd = {p->n, p->ic, p->ih, p->iw}, dd = {p->n, p->oc, p->oh, p->ow};
    dnnl_dims_t        wd = {p->groups, p->oc / p->groups, p->ic / p->groups, p->kh, p->kw};
    dnnl_dims_t        bd = {p->oc};
    vg_status          st = VG_OK;
    if (p->src_md)
        src = *p->src_md;
    else
        st = vgi_dnnl_check(
            d, dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_format_tag_any),
            "conv src md");
    if (st == VG_OK) {
        if (p->dst_md)
            dst = *p->dst_md;
        else
            st = vgi_dnnl_check(
                d, dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_format_tag_any),
                "conv dst md");
    }
    if (st == VG_OK) {
        if (p->groups == 1) {
            dnnl_dims_t   wd4 = {wd[1], wd[2], wd[3], wd[4]};
            dnnl_status_t ds =
                dnnl_memory_desc_init_by_tag(&wei, 4, wd4, dnnl_f32, dnnl_format_tag_any);
            st = vgi_dnnl_check(d, ds, "conv weights md");
        } else
            st = vgi_dnnl_check(
                d, dnnl_memory_desc_init_by_tag(&wei, 5, wd, dnnl_f32, dnnl_format_tag_any),
                "conv weights md");
    }
    if (st == VG_OK)
        st = vgi_dnnl_check(d, dnnl_memory_desc_init_by_tag(&bias, 1, bd, dnnl_f32, dnnl_a),
                            "conv bias md");
    if (st != VG_OK)
        return st;
    dnnl_convolution_desc_t cd;
    dnnl_dims_t             strides = {p->stride[0], p->stride[1]};
    dnnl_dims_t             dil     = {p->dilation[0] - 1, p->dilation[1] - 1};
    dnnl_dims_t             pl = {p->pad_l[0], p->pad_l[1]}, pr = {p->pad_r[0], p->pad_r[1]};
    st = vgi_dnnl_check(d,
                        dnnl_dilated_convolution_forward_desc_init(
                            &cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei,
                            p->bias ? &bias : NULL, &dst, strides, dil, pl, pr),
                        "convolution descriptor");
    if (st != VG_OK)
        return st;
    dnnl_primitive_attr_t attr;
    st = make_attr(d, p->npost, p->post, &attr);
    if (st != VG_OK)
        return st;
    dnnl_primitive_desc_t pd;
    st = create_pd(d, &cd, attr, &pd, "convolution primitive descriptor");
    if (st != VG_OK)
        return st;
    return finish(d, out, pd, 1, true, p->bias, p->npost, p->post);
}

vg_status vgi_dnnl_pool_create(vgi_dnnl *d, const vgi_dnnl_pool_params *p, vgi_dnnl_prim *out) {
    prim_reset(out, VGI_DNNL_PRIM_POOL);
    dnnl_memory_desc_t dst;
    dnnl_dims_t        dd = {p->src_md.dims[0], p->src_md.dims[1], p->oh, p->ow};
    vg_status          st = VG_OK;
    if (p->dst_md)
        dst = *p->dst_md;
    else
        st = vgi_dnnl_check(
            d, dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_format_tag_any),
            "pool dst md");
    if (st != VG_OK)
        return st;
    dnnl_pooling_v2_desc_t pdsc;
    dnnl_dims_t            ks = {p->kernel[0], p->kernel[1]}, ss = {p->stride[0], p->stride[1]};
    dnnl_dims_t     dl = {0, 0}, pl = {p->pad_l[0], p->pad_l[1]}, pr = {p->pad_r[0], p->pad_r[1]};
    dnnl_alg_kind_t alg = p->max               ? dnnl_pooling_max
                          : p->avg_include_pad ? dnnl_pooling_avg_include_padding
                                               : dnnl_pooling_avg_exclude_padding;
    dnnl_status_t   ds  = dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference, alg,
                                                            &p->src_md, &dst, ss, ks, dl, pl, pr);
    st                  = vgi_dnnl_check(d, ds, "pooling descriptor");
    if (st != VG_OK)
        return st;
    dnnl_primitive_attr_t attr;
    st = make_attr(d, 0, NULL, &attr);
    if (st != VG_OK)
        return st;
    dnnl_primitive_desc_t pd;
    st = create_pd(d, &pdsc, attr, &pd, "pooling primitive descriptor");
    if (st != VG_OK)
        return st;
    return finish(d, out, pd, 1, false, false, 0, NULL);
}

vg_status vgi_dnnl_resample_create(vgi_dnnl *d, const vgi_dnnl_resample_params *p,
                                   vgi_dnnl_prim *out) {
    prim_reset(out, VGI_DNNL_PRIM_RESAMPLE);
    dnnl_memory_desc_t dst;
    int                nd = p->src_md.ndims;
    if (nd < 3 || nd > 5) {
        snprintf(d->err, sizeof(d->err), "resampling of a rank-%d tensor", nd);
        return VG_E_UNSUPPORTED;
    }
    dnnl_dims_t dd;
    memcpy(dd, p->src_md.dims, sizeof(dd));
    dd[nd - 2]   = nd >= 4 ? p->oh : dd[nd - 2];
    dd[nd - 1]   = p->ow;
    vg_status st = VG_OK;
    if (p->dst_md)
        dst = *p->dst_md;
    else
        st = vgi_dnnl_check(
            d, dnnl_memory_desc_init_by_tag(&dst, nd, dd, dnnl_f32, dnnl_format_tag_any),
            "resample dst md");
    if (st != VG_OK)
        return st;
    dnnl_resampling_desc_t rd;
    st = vgi_dnnl_check(d,
                        dnnl_resampling_forward_desc_init(&rd, dnnl_forward_inference,
                                                          p->linear ? dnnl_resampling_linear
                                                                    : dnnl_resampling_nearest,
                                                          NULL, &p->src_md, &dst),
                        "resampling descriptor");
    if (st != VG_OK)
        return st;
    dnnl_primitive_attr_t attr;
    st = make_attr(d, 0, NULL, &attr);
    if (st != VG_OK)
        return st;
    dnnl_primitive_desc_t pd;
    st = create_pd(d, &rd, attr, &pd, "resampling primitive descriptor");
    if (st != VG_OK)
        return st;
    return finish(d, out, pd, 1, false, false, 0, NULL);
}

vg_status vgi_dnnl_eltwise_create(vgi_dnnl *d, const vgi_dnnl_eltwise_params *p,
                                  vgi_dnnl_prim *out) {
    prim_reset(out, VGI_DNNL_PRIM_ELTWISE);
    dnnl_alg_kind_t alg;
    float           a, b;
    if (!vgi_dnnl_act_alg(p->act, p->alpha, p->beta, &alg, &a, &b)) {
        snprintf(d->err, sizeof(d->err), "eltwise without an activation");
        return VG_E_INVALID_ARG;
    }
    dnnl_eltwise_desc_t ed;
    dnnl_status_t       ds =
        dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, &p->src_md, a, b);
    vg_status st = vgi_dnnl_check(d, ds, "eltwise descriptor");
    if (st != VG_OK)
        return st;
    dnnl_primitive_attr_t attr;
    st = make_attr(d, 0, NULL, &attr);
    if (st != VG_OK)
        return st;
    dnnl_primitive_desc_t pd;
    st = create_pd(d, &ed, attr, &pd, "eltwise primitive descriptor");
    if (st != VG_OK)
        return st;
    return finish(d, out, pd, 1, false, false, 0, NULL);
}

vg_status vgi_dnnl_binary_create(vgi_dnnl *d, const vgi_dnnl_binary_params *p, vgi_dnnl_prim *out) {
    prim_reset(out, VGI_DNNL_PRIM_BINARY);
    dnnl_memory_desc_t dst;
    vg_status          st = VG_OK;
    if (p->dst_md)
        dst = *p->dst_md;
    else
        st = vgi_dnnl_check(d,
                            dnnl_memory_desc_init_by_tag(&dst, p->src0_md.ndims, p->src0_md.dims,
                                                         dnnl_f32, dnnl_format_tag_any),
                            "binary dst md");
    if (st != VG_OK)
        return st;
    dnnl_binary_desc_t bd;
    st = vgi_dnnl_check(d, dnnl_binary_desc_init(&bd, p->alg, &p->src0_md, &p->src1_md, &dst),
                        "binary descriptor");
    if (st != VG_OK)
        return st;
    dnnl_primitive_attr_t attr;
    st = make_attr(d, p->npost, p->post, &attr);
    if (st != VG_OK)
        return st;
    dnnl_primitive_desc_t pd;
    st = create_pd(d, &bd, attr, &pd, "binary primitive descriptor");
    if (st != VG_OK)
        return st;
    return finish(d, out, pd, 2, false, false, p->npost, p->post);
}

vg_status vgi_dnnl_concat_create(vgi_dnnl *d, const vgi_dnnl_concat_params *p, vgi_dnnl_prim *out) {
    prim_reset(out, VGI_DNNL_PRIM_CONCAT);
    if (p->n < 1 || p->n > VGI_DNNL_MAX_SRC) {
        snprintf(d->err, sizeof(d->err), "concat of %d inputs (1..%d supported)", p->n,
                 VGI_DNNL_MAX_SRC);
        return VG_E_UNSUPPORTED;
    }
    dnnl_primitive_attr_t attr;
    vg_status             st = make_attr(d, 0, NULL, &attr);
    if (st != VG_OK)
        return st;
    dnnl_primitive_desc_t pd;
    st = vgi_dnnl_check(d,
                        dnnl_concat_primitive_desc_create(&pd, p->dst_md, p->n, p->axis, p->src_mds,
                                                          attr, d->engine),
                        "concat primitive descriptor");
    dnnl_primitive_attr_destroy(attr);
    if (st != VG_OK)
        return st;
    return finish(d, out, pd, p->n, false, false, 0, NULL);
}

vg_status vgi_dnnl_reorder_create(vgi_dnnl *d, const dnnl_memory_desc_t *src,
                                  const dnnl_memory_desc_t *dst, vgi_dnnl_prim *out) {
    prim_reset(out, VGI_DNNL_PRIM_REORDER);
    dnnl_primitive_attr_t attr;
    vg_status             st = make_attr(d, 0, NULL, &attr);
    if (st != VG_OK)
        return st;
    dnnl_primitive_desc_t pd;
    st = vgi_dnnl_check(
        d, dnnl_reorder_primitive_desc_create(&pd, src, d->engine, dst, d->engine, attr),
        "reorder primitive descriptor");
    dnnl_primitive_attr_destroy(attr);
    if (st != VG_OK)
        return st;
    return finish(d, out, pd, 1, false, false, 0, NULL);
}

static vg_status bind(vgi_dnnl *d, vgi_dnnl_prim *p, int idx, const void *ptr) {
    if (idx < 0)
        return VG_OK;
    if (!ptr) {
        snprintf(d->err, sizeof(d->err), "primitive argument %d has no buffer", idx);
        return VG_E_INTERNAL;
    }
    return vgi_dnnl_check(d, dnnl_memory_set_data_handle(p->args[idx].memory, (void *)ptr),
                          "dnnl_memory_set_data_handle");
}

vg_status vgi_dnnl_prim_exec(vgi_dnnl *d, vgi_dnnl_prim *p, const vgi_dnnl_bufs *b) {
    vg_status st = VG_OK;
    for (int i = 0; i < p->nsrc && st == VG_OK; i++)
        st = bind(d, p, p->a_src[i], b->src[i]);
    if (st == VG_OK)
        st = bind(d, p, p->a_dst, b->dst);
    if (st == VG_OK)
        st = bind(d, p, p->a_wei, b->wei);
    if (st == VG_OK)
        st = bind(d, p, p->a_bias, b->bias);
    for (int i = 0; i < VGI_DNNL_MAX_POST && st == VG_OK; i++)
        st = bind(d, p, p->a_post[i], b->post[i]);
    if (st == VG_OK)
        st = bind(d, p, p->a_scratch, b->scratch);
    if (st != VG_OK)
        return st;
    return vgi_dnnl_check(d, dnnl_primitive_execute(p->prim, d->stream, p->nargs, p->args),
                          "dnnl_primitive_execute");
}

void vgi_dnnl_prim_fini(vgi_dnnl_prim *p) {
    if (!p)
        return;
    for (int i = 0; i < p->nargs; i++)
        if (p->args[i].memory)
            dnnl_memory_destroy(p->args[i].memory);
    if (p->prim)
        dnnl_primitive_destroy(p->prim);
    p->nargs = 0;
    p->prim  = NULL;
}

vg_status vgi_dnnl_reorder_once(vgi_dnnl *d, const dnnl_memory_desc_t *src_md, const void *src,
                                const dnnl_memory_desc_t *dst_md, void *dst) {
    vgi_dnnl_prim p;
    vg_status     st = vgi_dnnl_reorder_create(d, src_md, dst_md, &p);
    if (st != VG_OK)
        return st;
    void *scratch = NULL;
    if (p.scratch_bytes > 0) {
        st = VG_E_UNSUPPORTED; /* plain reorders need no scratchpad */
        snprintf(d->err, sizeof(d->err), "reorder needs %zu bytes of scratchpad", p.scratch_bytes);
        vgi_dnnl_prim_fini(&p);
        return st;
    }
    vgi_dnnl_bufs b;
    memset(&b, 0, sizeof(b));
    b.src[0]  = src;
    b.dst     = dst;
    b.scratch = scratch;
    st        = vgi_dnnl_prim_exec(d, &p, &b);
    vgi_dnnl_prim_fini(&p);
    return st;
}

const char *vgi_dnnl_prim_impl(const vgi_dnnl_prim *p) {
    const_dnnl_primitive_desc_t pd   = NULL;
    const char                 *name = NULL;
    if (!p->prim || dnnl_primitive_get_primitive_desc(p->prim, &pd) != dnnl_success ||
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
        return "?";
    return name;
}

bool vgi_dnnl_prim_is_ref(const vgi_dnnl_prim *p) {
    return strncmp(vgi_dnnl_prim_impl(p), "ref", 3) == 0;
}
