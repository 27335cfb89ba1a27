# Debian package of runsc-host, through CPack. Configure with the Debian prefix, then package:
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build-deb -j && (cd build-deb && cpack -G DEB)
# It installs the binaries (/usr/bin/runsc-host, /usr/bin/containerd-shim-runsc-host-v1), the
# hook (/usr/libexec/runsc-host/), the shim's runc link, the policy as a dpkg conffile
# (/etc/runsc-host/config.json: an administrator's edits survive upgrades) and the client
# examples (/usr/share/runsc-host/examples/).
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "package.cmake: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; a Debian package "
                 "wants -DCMAKE_INSTALL_PREFIX=/usr (the policy's hook_path is baked in at configure time)")
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "runsc-host")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "runc-compatible runtime that runs containers in gVisor under a policy")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "runsc-host is an OCI runtime with runc's command line. On create it rewrites the bundle\n"
  "under a policy (protected host paths and devices stripped, host networking, seccomp and\n"
  "capabilities enforced inside the sandbox) and runs gVisor's runsc. It ships the containerd\n"
  "runtime type io.containerd.runsc-host.v1 and an OCI hook that opens a container's exposed\n"
  "ports and closes its egress with iptables.")
set(CPACK_PACKAGE_CONTACT "runsc-host maintainers <runsc-host@localhost>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The runtime dependencies: gVisor, containerd (and its runc v2 shim, which our shim reuses),
# iptables for the hook, and the libraries we link.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "runsc, containerd, iptables, libjansson4, libseccomp2, libcap2, libssl3, libc6")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "docker.io, docker-compose")

# Absolute install destinations (/etc/runsc-host) are written under $DESTDIR: make CPack stage
# with DESTDIR, never into the build machine's own /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")

# dpkg conffiles: the policy (and the seccomp profile when one ships). dpkg keeps an edited
# copy on upgrade and asks before replacing it.
set(rh_conffiles "${RH_SYSCONF_POLICY}\n")
if(EXISTS ${CMAKE_SOURCE_DIR}/config/seccomp/default.json)
  string(APPEND rh_conffiles "${RH_SECCOMP_PROFILE}\n")
endif()
file(WRITE ${CMAKE_BINARY_DIR}/cpack/conffiles "${rh_conffiles}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${CMAKE_BINARY_DIR}/cpack/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
