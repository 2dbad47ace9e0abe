// openBeneath on a real temporary tree (a filesystem, no sockets), with openat2 and with the
// O_NOFOLLOW component walk.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "upstream/static/static_fs.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstddef>

namespace gw::statics {
namespace {

class StaticFsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    setOpenat2Disabled(GetParam());
    char tmpl[] = "/tmp/gw-static-fs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/dir").c_str(), 0755), 0);
    write(root_ + "/a.txt", "hello");
    write(root_ + "/dir/b.txt", "b");
    write(base_ + "/secret.txt", "secret");
    ASSERT_EQ(symlink("../secret.txt", (root_ + "/escape").c_str()), 0);
    ASSERT_EQ(symlink("/etc/passwd", (root_ + "/abs").c_str()), 0);
    ASSERT_EQ(symlink("a.txt", (root_ + "/inside").c_str()), 0);
    ASSERT_EQ(symlink("..", (root_ + "/dir/up").c_str()), 0);
    ASSERT_EQ(symlink(base_.c_str(), (root_ + "/outdir").c_str()), 0);
    ASSERT_EQ(mkfifo((root_ + "/fifo").c_str(), 0644), 0);
    root_fd_ = openRoot(root_);
    ASSERT_GE(root_fd_, 0);
  }
  void TearDown() override {
    close(root_fd_);
    setOpenat2Disabled(false);
    std::string cmd = "rm -rf '" + base_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  static void write(const std::string& path, const std::string& text) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }
  int open(const std::string& rel, int* err, OpenMode mode = OpenMode::Read) {
    return openBeneath(root_fd_, rel, err, mode);
  }
  static int open(const char* p, int flags, int mode) { return ::open(p, flags, mode); }

  std::string base_, root_;
  int root_fd_ = -1;
};

TEST_P(StaticFsTest, OpensFilesAndDirectories) {
  int err = 0;
  int fd = open("a.txt", &err);
  ASSERT_GE(fd, 0) << strerror(err);
  char buf[16] = {};
  EXPECT_EQ(read(fd, buf, sizeof(buf)), 5);
  close(fd);
  fd = open("dir/b.txt", &err);
  ASSERT_GE(fd, 0);
  close(fd);
  fd = open("", &err);  // the root itself
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  close(fd);
  EXPECT_LT(open("missing", &err), 0);
  EXPECT_EQ(err, ENOENT);
  EXPECT_LT(open("a.txt/x", &err), 0);
  EXPECT_EQ(err, ENOTDIR);
}

TEST_P(StaticFsTest, SymlinksNeverLeaveTheRoot) {
  int err = 0;
  EXPECT_LT(open("escape", &err), 0);
  EXPECT_TRUE(err == EXDEV || err == ELOOP) << strerror(err);
  EXPECT_LT(open("abs", &err), 0);
  EXPECT_TRUE(err == EXDEV || err == ELOOP) << strerror(err);
  // One rule for openat2 and the walk: no symlink is followed, even one that stays inside.
  EXPECT_LT(open("dir/up/a.txt", &err), 0);
  EXPECT_TRUE(err == ELOOP || err == ENOTDIR) << strerror(err);
  EXPECT_LT(open("outdir/secret.txt", &err), 0);
  EXPECT_TRUE(err == EXDEV || err == ELOOP || err == ENOTDIR) << strerror(err);
  for (OpenMode m : {OpenMode::Read, OpenMode::Path}) {
    EXPECT_LT(open("inside", &err, m), 0);
    EXPECT_EQ(err, ELOOP);
  }
}

TEST_P(StaticFsTest, PathModeOpensDevicesWithoutReadingThem) {
  int err = 0;
  int fd = open("fifo", &err, OpenMode::Path);
  ASSERT_GE(fd, 0) << strerror(err);
  char c;
  EXPECT_LT(read(fd, &c, 1), 0);  // O_PATH: not readable
  EXPECT_EQ(errno, EBADF);
  close(fd);
}

// A seccomp filter that makes openat2 fail with EPERM (as container runtimes do): the probe says
// no, and an open that meets it anyway switches to the walk and still works.
[[noreturn]] void seccompChild() {
        char tmpl[] = "/tmp/gw-static-sc-XXXXXX";
        if (!mkdtemp(tmpl)) _exit(10);
        std::string f = std::string(tmpl) + "/a.txt";
        int w = ::open(f.c_str(), O_WRONLY | O_CREAT, 0644);
        if (w < 0 || ::write(w, "x", 1) != 1) _exit(11);
        close(w);
        int root = openRoot(tmpl);
        if (root < 0) _exit(12);
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
          _exit(13);
        }
        if (probeOpenat2(root)) _exit(14);
        bool use = true;  // as if the probe had passed: the first EPERM switches over
        int err = 0;
        int fd = openBeneath(root, "a.txt", &err, OpenMode::Read, &use);
        if (fd < 0 || use) _exit(15);
        char c;
        if (read(fd, &c, 1) != 1 || c != 'x') _exit(16);
        std::string cmd = std::string("rm -rf '") + tmpl + "'";
        _exit(system(cmd.c_str()) == 0 ? 0 : 17);
}

TEST(StaticFsSeccomp, BlockedOpenat2FallsBackToTheWalk) {
  EXPECT_EXIT(seccompChild(), ::testing::ExitedWithCode(0), "");
}

TEST_P(StaticFsTest, FifoOpenDoesNotBlock) {
  int err = 0;
  int fd = open("fifo", &err);  // O_NONBLOCK: returns at once; the caller refuses non-regular files
  ASSERT_GE(fd, 0) << strerror(err);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  close(fd);
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, StaticFsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "walk" : "openat2"; });

}  // namespace
}  // namespace gw::statics
