// Name lists: comments, blank lines, trimming, and file:line in errors.
#include "resolve/name_list.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/error.h"

namespace netres::resolve {
namespace {

TEST(ReadNames, SkipsBlanksAndComments) {
  std::istringstream in("# header\n\nwww.test\n  mail.test  \r\n10.1.2.3 # a comment\n\t\n::1\n");
  EXPECT_EQ(read_names(in, "x"),
            (std::vector<std::string>{"www.test", "mail.test", "10.1.2.3", "::1"}));
}

TEST(ReadNames, BadNameNamesFileAndLine) {
  std::istringstream in("ok.test\n# fine\nbad..name\n");
  try {
    read_names(in, "names.txt");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "names.txt:3: bad name 'bad..name': empty label");
  }
}

TEST(ReadNames, SpacesInsideALineAreBad) {
  std::istringstream in("two names.test\n");
  EXPECT_THROW(read_names(in, "f"), UsageError);
}

TEST(ReadNameFile, MissingFile) {
  try {
    read_name_file("/nonexistent/names.txt");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "cannot read names from '/nonexistent/names.txt': No such file or directory");
  }
}

TEST(CheckInputName, AddressesAndNames) {
  EXPECT_NO_THROW(check_input_name("10.0.0.1"));
  EXPECT_NO_THROW(check_input_name("fd00::1"));
  EXPECT_NO_THROW(check_input_name("host.test"));
  EXPECT_THROW(check_input_name(""), UsageError);
  EXPECT_THROW(check_input_name("a_b!"), UsageError);
}

}  // namespace
}  // namespace netres::resolve
