// gw-digest: manages htdigest-format credential files (see README "Digest authentication").
//
//   gw-digest [-c] [-a ALGORITHM] [--stdin] FILE REALM USER   add or update USER (-c: create FILE)
//   gw-digest -D FILE REALM USER [-a ALGORITHM]               delete USER's entry
//   gw-digest -l FILE                                         list user:realm:algorithm
//
// ALGORITHM is MD5 (default; a 3-column line exactly like Apache's htdigest), SHA-256 or
// SHA-512-256 (a 4th column names the hash). The password is prompted twice without echo, or read
// as one line from stdin with --stdin. Names with ':' or control characters and empty passwords
// are refused. The file is rewritten atomically (temporary file in the same directory, fsync,
// rename); lines the tool does not touch are kept as they are.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <openssl/crypto.h>

#include "auth/credentials.h"
#include "auth/digest.h"

namespace {

using gw::auth::Hash;

int usage() {
  std::cerr << "usage: gw-digest [-c] [-a MD5|SHA-256|SHA-512-256] [--stdin] FILE REALM USER\n"
               "       gw-digest -D [-a ALGORITHM] FILE REALM USER\n"
               "       gw-digest -l FILE\n";
  return 2;
}

bool validName(const std::string& s) {
  if (s.empty() || s.size() > 255) return false;
  for (unsigned char c : s) {
    if (c == ':' || c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool readPasswordTty(std::string& out) {
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::cerr << "gw-digest: no terminal to prompt on (use --stdin)\n";
    return false;
  }
  auto prompt = [&](const char* text, std::string& pw) {
    if (write(fd, text, strlen(text)) < 0) return false;
    termios old{};
    bool have = tcgetattr(fd, &old) == 0;
    if (have) {
      termios t = old;
      t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(fd, TCSAFLUSH, &t);
    }
    pw.clear();
    char c;
    while (read(fd, &c, 1) == 1 && c != '\n') pw += c;
    if (have) tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) return false;
    return true;
  };
  std::string again;
  bool ok = prompt("New password: ", out) && prompt("Re-type new password: ", again);
  close(fd);
  if (ok && out != again) {
    std::cerr << "gw-digest: passwords do not match\n";
    ok = false;
  }
  OPENSSL_cleanse(again.data(), again.size());
  return ok;
}

bool readLines(const std::string& path, std::vector<std::string>& lines, bool must_exist) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!must_exist && errno == ENOENT) return true;
    std::cerr << "gw-digest: cannot read " << path << ": " << strerror(errno) << "\n";
    return false;
  }
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return true;
}

bool writeAtomically(const std::string& path, const std::vector<std::string>& lines) {
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string tmpl = dir + "/.gw-digest.XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd < 0) {
    std::cerr << "gw-digest: cannot create a temporary file in " << dir << ": " << strerror(errno) << "\n";
    return false;
  }
  struct stat st {};
  mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0640;
  fchmod(fd, mode);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  size_t off = 0;
  bool ok = true;
  while (off < text.size()) {
    ssize_t w = write(fd, text.data() + off, text.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    off += static_cast<size_t>(w);
  }
  ok = ok && fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  if (!ok || rename(tmpl.c_str(), path.c_str()) != 0) {
    std::cerr << "gw-digest: cannot write " << path << ": " << strerror(errno) << "\n";
    unlink(tmpl.c_str());
    return false;
  }
  return true;
}

// The hash of a credential line, or nullopt for comments/blank/broken lines.
std::optional<gw::auth::CredentialLine> lineEntry(const std::string& l) {
  if (l.empty() || l[0] == '#') return std::nullopt;
  std::string why;
  return gw::auth::parseCredentialLine(l, &why);
}

}  // namespace

int main(int argc, char** argv) {
  bool create = false, del = false, list = false, from_stdin = false;
  Hash hash = Hash::MD5;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-c") create = true;
    else if (a == "-D") del = true;
    else if (a == "-l") list = true;
    else if (a == "--stdin") from_stdin = true;
    else if (a == "-a") {
      if (++i >= argc) return usage();
      auto h = gw::auth::parseHashName(argv[i]);
      if (!h) {
        std::cerr << "gw-digest: unknown algorithm '" << argv[i] << "' (MD5, SHA-256, SHA-512-256)\n";
        return 2;
      }
      hash = *h;
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return usage();
    } else {
      pos.push_back(a);
    }
  }
  if (list) {
    if (pos.size() != 1 || create || del) return usage();
    std::vector<std::string> lines;
    if (!readLines(pos[0], lines, true)) return 1;
    for (const auto& l : lines) {
      if (auto e = lineEntry(l)) std::cout << e->user << ":" << e->realm << ":" << gw::auth::hashName(e->hash) << "\n";
    }
    return 0;
  }
  if (pos.size() != 3 || (create && del)) return usage();
  const std::string &file = pos[0], &realm = pos[1], &user = pos[2];
  if (!validName(realm) || !validName(user)) {
    std::cerr << "gw-digest: user and realm must be 1-255 characters without ':' or control characters\n";
    return 1;
  }
  std::vector<std::string> lines;
  if (!create && !readLines(file, lines, !del ? false : true)) return 1;
  // Refuse to rewrite a file we cannot parse: the gateway would not load it either.
  {
    std::string text, why;
    for (const auto& l : lines) text += l + "\n";
    if (!gw::auth::parseCredentialFile(text, &why)) {
      std::cerr << "gw-digest: " << file << " is not a valid credential file (" << why << ")\n";
      return 1;
    }
  }
  auto same = [&](const std::string& l) {
    auto e = lineEntry(l);
    return e && e->user == user && e->realm == realm && e->hash == hash;
  };
  if (del) {
    size_t before = lines.size();
    std::erase_if(lines, same);
    if (lines.size() == before) {
      std::cerr << "gw-digest: no " << gw::auth::hashName(hash) << " entry for user '" << user << "' in realm '" << realm << "'\n";
      return 1;
    }
    return writeAtomically(file, lines) ? 0 : 1;
  }
  std::string password;
  if (from_stdin) {
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else if (!readPasswordTty(password)) {
    return 1;
  }
  if (password.empty()) {
    std::cerr << "gw-digest: empty password refused\n";
    return 1;
  }
  std::string line = user + ":" + realm + ":" + gw::auth::computeHa1(hash, user, realm, password);
  OPENSSL_cleanse(password.data(), password.size());
  if (hash != Hash::MD5) line += std::string(":") + gw::auth::hashName(hash);
  bool replaced = false;
  for (auto& l : lines) {
    if (same(l)) {
      l = line;
      replaced = true;
    }
  }
  if (!replaced) lines.push_back(line);
  if (!writeAtomically(file, lines)) return 1;
  std::cerr << (replaced ? "Changing" : "Adding") << " password for " << user << " in realm " << realm << " ("
            << gw::auth::hashName(hash) << ")\n";
  return 0;
}
