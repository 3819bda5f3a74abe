// The handshake's offline parts: telling an encrypted key file, naming auth methods.
#include "ssh/ssh_handshake.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace netres::ssh {
namespace {

namespace fs = std::filesystem;

std::string write_key(const std::string& name, const std::string& text) {
  fs::path p =
      fs::temp_directory_path() / ("netres_handshake_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

TEST(SshHandshake, KeyFileEncrypted) {
  // OpenSSH format: the base64 body starts "openssh-key-v1\0", uint32 4, then the cipher name.
  std::string plain = write_key(
      "plain", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n");
  std::string aes = write_key("aes",
                              "-----BEGIN OPENSSH PRIVATE "
                              "KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0\n");
  std::string pem = write_key("pem",
                              "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
                              "AES-128-CBC,00\n\nAAAA\n");
  std::string pem_plain = write_key("pem_plain", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n");
  EXPECT_FALSE(key_file_encrypted(plain));
  EXPECT_TRUE(key_file_encrypted(aes));
  EXPECT_TRUE(key_file_encrypted(pem));
  EXPECT_FALSE(key_file_encrypted(pem_plain));
  EXPECT_FALSE(key_file_encrypted("/nonexistent/netres/key"));
  for (const auto& p : {plain, aes, pem, pem_plain}) fs::remove(p);
}

TEST(SshHandshake, MethodsText) {
  EXPECT_EQ(methods_text(0), "none");
  EXPECT_EQ(methods_text(SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY),
            "publickey, password");
  EXPECT_EQ(methods_text(SSH_AUTH_METHOD_INTERACTIVE | SSH_AUTH_METHOD_GSSAPI_MIC |
                         SSH_AUTH_METHOD_HOSTBASED),
            "keyboard-interactive, hostbased, gssapi-with-mic");
}

}  // namespace
}  // namespace netres::ssh
