# Helpers shared by every CMakeLists.txt of vigil.

# Sanitizers: ASan and UBSan may be combined; TSan excludes both.
function(vg_setup_sanitizers)
    if(VG_TSAN AND (VG_ASAN OR VG_UBSAN))
        message(FATAL_ERROR "VG_TSAN cannot be combined with VG_ASAN or VG_UBSAN")
    endif()
    set(_san "")
    if(VG_ASAN)
        list(APPEND _san address)
    endif()
    if(VG_UBSAN)
        list(APPEND _san undefined)
    endif()
    if(VG_TSAN)
        list(APPEND _san thread)
    endif()
    if(_san)
        list(JOIN _san "," _san_list)
        add_compile_options(-fsanitize=${_san_list} -fno-omit-frame-pointer -fno-sanitize-recover=all)
        add_link_options(-fsanitize=${_san_list})
    endif()
endfunction()

function(vg_setup_warnings)
    add_compile_options(
        "$<$<COMPILE_LANGUAGE:C>:-Wall;-Wextra;-Wpedantic;-Wshadow;-Wvla;-Wstrict-prototypes;-Wmissing-prototypes>")
    if(VG_WERROR)
        add_compile_options("$<$<COMPILE_LANGUAGE:C>:-Werror>")
    endif()
endfunction()

# vg_add_test(<name> SOURCES <files...> [LABELS <labels...>] [TIMEOUT <s>] [ARGS <args...>]
#             [LIBS <targets...>])
# One executable per module; exit code 77 means SKIPPED (no data, no GPU).
function(vg_add_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LABELS;ARGS;LIBS" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 300)
    endif()
    if(NOT TARGET ${name})
        add_executable(${name} ${T_SOURCES})
        target_link_libraries(${name} PRIVATE vigil_static vg_test_harness ${T_LIBS})
        target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
    endif()
    add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
    set_tests_properties(${name} PROPERTIES
        LABELS "${T_LABELS}"
        TIMEOUT ${T_TIMEOUT}
        SKIP_RETURN_CODE 77
        ENVIRONMENT "VIGIL_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
