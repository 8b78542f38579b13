# VG_MINIMAL: the engine, the importers, the backends and the GPU tests only --
# no FFmpeg, oneDNN, Cairo, SDL2, GLib, libjpeg. It is the configuration that
# tools/gpu-check.sh builds on a GPU machine that has the CUDA toolkit, cuDNN
# and cuBLAS but none of the Debian -dev packages. The importers still need
# jansson (TF.js) and protobuf-c (ONNX); tools/gpu-bundle.sh prepares both
# (headers, libraries, pkg-config files) plus the ONNX reader that protoc-c
# generates, and the build finds them through CMAKE_PREFIX_PATH.
#
# Where pkg-config itself is missing, pkg_check_modules() is replaced by a
# lookup of exactly the two libraries above under CMAKE_PREFIX_PATH, which
# creates the same PkgConfig::<PREFIX> imported targets the modules use.

set(VG_WITH_DISPLAY OFF CACHE BOOL "Build the SDL2 display sink" FORCE)

if(NOT PKG_CONFIG_FOUND)
    message(STATUS "VG_MINIMAL: no pkg-config; looking up jansson and protobuf-c directly")
    macro(pkg_check_modules prefix)
        cmake_parse_arguments(_vgpc "REQUIRED;QUIET;IMPORTED_TARGET" "" "" ${ARGN})
        set(_vgpc_mods ${_vgpc_UNPARSED_ARGUMENTS})
        if(NOT TARGET PkgConfig::${prefix})
            add_library(PkgConfig::${prefix} INTERFACE IMPORTED GLOBAL)
        endif()
        foreach(_vgpc_mod ${_vgpc_mods})
            if(_vgpc_mod STREQUAL "jansson")
                set(_vgpc_hdr jansson.h)
                set(_vgpc_lib jansson)
            elseif(_vgpc_mod STREQUAL "libprotobuf-c")
                set(_vgpc_hdr protobuf-c/protobuf-c.h)
                set(_vgpc_lib protobuf-c)
            else()
                message(FATAL_ERROR "VG_MINIMAL: '${_vgpc_mod}' is not part of the minimal "
                                    "build (only jansson and libprotobuf-c are)")
            endif()
            find_path(_vgpc_inc_${_vgpc_lib} ${_vgpc_hdr} REQUIRED)
            find_library(_vgpc_so_${_vgpc_lib} NAMES ${_vgpc_lib} REQUIRED)
            set_property(TARGET PkgConfig::${prefix} APPEND PROPERTY
                         INTERFACE_INCLUDE_DIRECTORIES ${_vgpc_inc_${_vgpc_lib}})
            set_property(TARGET PkgConfig::${prefix} APPEND PROPERTY
                         INTERFACE_LINK_LIBRARIES ${_vgpc_so_${_vgpc_lib}})
        endforeach()
        set(${prefix}_FOUND TRUE)
    endmacro()
endif()
