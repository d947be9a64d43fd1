// Debian's libcurl4 (the OpenSSL build the agent uses) also links librtmp and libldap, and
// through them GnuTLS, whose library constructor initialises it on load (entropy, the ASN.1
// tables, CPU feature probes, the system priority file) before main() runs. The agent never
// uses GnuTLS: every TLS byte it handles goes through OpenSSL. That start-up work cost
// 0.8 MiB of peak RSS in bench/install/run_install.sh (19.5 -> 18.6 MiB, medians of 3 runs
// at 64 and 256 MiB).
//
// GnuTLS's documented way out (GNUTLS_SKIP_GLOBAL_INIT in gnutls.h) is a strong definition
// of this weak hook in the program; the constructor asks it first. It is safe whatever links
// GnuTLS: implicit initialisation is a convenience, and its users (libcurl's GnuTLS backend,
// libldap, librtmp) call gnutls_global_init() themselves before they use it.
//
// The linker exports the symbol (src/agent/CMakeLists.txt, --export-dynamic-symbol) so that
// the dynamic linker resolves libgnutls's call to it; AgentCliTest.GnuTlsIsNotInitialisedOnLoad
// checks that it does.

extern "C" int _gnutls_global_init_skip();  // NOLINT(bugprone-reserved-identifier): GnuTLS's name
extern "C" int _gnutls_global_init_skip() { return 1; }
