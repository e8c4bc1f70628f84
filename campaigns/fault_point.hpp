// Crash points for fault-injection tests (ops/faults/crash). Test builds only.
//
// LOA_FAULT_POINT("name") marks a place where a SIGKILL is most telling: inside an open SQLite
// transaction just before COMMIT, after a commit but before the Redis acknowledgement, after
// the gateway accepted but before the batch is settled. In a normal build the macro expands to
// nothing: the code below exists only in a build configured with -DLOA_FAULT_INJECTION=ON
// (CMake option, off by default; the dev preset turns it on; never the release preset), which
// compiles the files that hold crash points with LOA_FAULT_INJECTION defined.
//
// Even then nothing happens unless the environment says so:
//   LOA_FAULT_KILL_AT=<point>[@<n>]   the n-th time (default 1) the process passes <point>,
//                                     it writes one line to stderr and raises SIGKILL.
// Points: planner.commit, store.commit, results.ack, dispatch.settle (where each sits is in
// the comment beside it). An unknown point name is never reached; ops/faults/crash checks
// that the daemon died where it was told to.
//
// Thread-safety: fault::hit may be called from any thread; the environment is read once.
#pragma once

#if defined(LOA_FAULT_INJECTION)
namespace loa::fault {
void hit(const char* point);
}  // namespace loa::fault
#define LOA_FAULT_POINT(point) ::loa::fault::hit(point)
#else
#define LOA_FAULT_POINT(point) static_cast<void>(0)
#endif
