#pragma once
// Opening a file beneath a document root without letting the request escape it.
//
// One rule on both paths: no symlink is followed, anywhere in the path (refused with ELOOP, or
// ENOTDIR for a symlink used as a directory). So the name the request asked for is the name that
// is served, and the dotfile rule checked on the request path (static_logic) holds for what is
// opened: "public.txt -> .env" cannot expose a dotfile.
//
// With openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (Linux ≥ 5.6) the kernel resolves the whole
// path atomically relative to the root's fd ("..", absolute paths and symlinks refused), so there
// is no check-then-open race. Where openat2 is missing or blocked (ENOSYS, or EPERM / E2BIG from a
// seccomp filter: probed once per upstream, and any such failure switches that upstream over), the
// path is walked one component at a time with O_NOFOLLOW.
//
// Threading: reentrant. Blocking: a local open()/fstat(), as nginx does on its event loop.
#include <string>

namespace gw::statics {

// Path: O_PATH (fstat only: a device node or FIFO is never opened). Read: O_RDONLY | O_NONBLOCK.
enum class OpenMode { Path, Read };

// Opens the root directory itself (O_PATH | O_DIRECTORY). Returns -1 with errno set.
int openRoot(const std::string& root);

// Whether openat2 can be used beneath `root_fd` (false: missing, or refused by seccomp).
bool probeOpenat2(int root_fd);

// Opens `relative` ("a/b/c", segments already checked; empty = the root itself) beneath
// `root_fd`. Returns the fd, or -1 with `*err` set to the errno (EXDEV or ELOOP: a symlink or
// an escape). `use_openat2` (per upstream; null = process-wide) is cleared when openat2 turns out
// to be unavailable.
int openBeneath(int root_fd, const std::string& relative, int* err, OpenMode mode, bool* use_openat2 = nullptr);

// Forces the component-walk fallback (tests).
void setOpenat2Disabled(bool disabled);

}  // namespace gw::statics
