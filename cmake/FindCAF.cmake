# Debian's libcaf-dev 0.17.6 ships neither a CMake config nor a .pc file.
# This module defines CAF::core, CAF::io (which links CAF::core) and CAF_VERSION, and
# CAF::openssl (which links CAF::io and OpenSSL's libssl/libcrypto) whenever libcaf_openssl
# and OpenSSL's development files are found — also when the caller did not ask for the
# component, so targets in any directory can use it (the cluster's TLS: actors/cluster/tls.hpp).
find_path(CAF_INCLUDE_DIR NAMES caf/all.hpp)
if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_ver_line REGEX "#define CAF_VERSION [0-9]+")
  string(REGEX MATCH "[0-9]+" _caf_ver "${_caf_ver_line}")
  math(EXPR _caf_major "${_caf_ver} / 10000")
  math(EXPR _caf_minor "(${_caf_ver} / 100) % 100")
  math(EXPR _caf_patch "${_caf_ver} % 100")
  set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
endif()
set(_caf_required CAF_INCLUDE_DIR)
foreach(_comp IN LISTS CAF_FIND_COMPONENTS)
  string(TOUPPER "${_comp}" _COMP)
  find_library(CAF_${_COMP}_LIBRARY NAMES caf_${_comp})
  if(CAF_${_COMP}_LIBRARY)
    set(CAF_${_comp}_FOUND TRUE)
  endif()
  list(APPEND _caf_required CAF_${_COMP}_LIBRARY)
endforeach()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF REQUIRED_VARS ${_caf_required}
  VERSION_VAR CAF_VERSION HANDLE_COMPONENTS)
if(CAF_FOUND AND NOT TARGET CAF::core)
  find_package(Threads REQUIRED)
  add_library(CAF::core SHARED IMPORTED)
  set_target_properties(CAF::core PROPERTIES
    IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  if(CAF_IO_LIBRARY)
    add_library(CAF::io SHARED IMPORTED)
    set_target_properties(CAF::io PROPERTIES
      IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
      INTERFACE_LINK_LIBRARIES CAF::core)
  endif()
endif()
if(CAF_FOUND AND NOT TARGET CAF::openssl)
  find_library(CAF_OPENSSL_LIBRARY NAMES caf_openssl)
  find_package(OpenSSL QUIET)
  if(CAF_OPENSSL_LIBRARY AND OPENSSL_FOUND AND TARGET CAF::io)
    add_library(CAF::openssl SHARED IMPORTED)
    set_target_properties(CAF::openssl PROPERTIES
      IMPORTED_LOCATION "${CAF_OPENSSL_LIBRARY}"
      INTERFACE_LINK_LIBRARIES "CAF::io;OpenSSL::SSL;OpenSSL::Crypto")
  endif()
endif()
