// The emitted master locustfile: the scenario's classes with their weights as Python literals
// (names with quotes and non-ASCII survive), and the histogram handler's message name.
#include "load/locust_locustfile.h"

#include <gtest/gtest.h>

#include "load/locust_stats.h"

namespace netres::load {
namespace {

TEST(LocustLocustfile, ClassesAndWeights) {
  Scenario s = parse_scenario(R"(host: http://127.0.0.1:8080
user_classes:
  - name: shopper
    weight: 3
    tasks: [GET /a]
  - name: 'say "hi" \ é'
    weight: 1.5
    tasks: [GET /b]
)",
                              "t.yaml");
  const std::string text = locustfile_text(s, "shop.yaml");
  EXPECT_NE(text.find("NETRES_CLASSES = [\n    (\"shopper\", 3),\n    (\"say \\\"hi\\\" \\\\ "
                      "\\u00e9\", 1.5),\n]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("register_message(\"netres_histograms\""), std::string::npos);
  EXPECT_NE(text.find("netres load shop.yaml --emit-locustfile"), std::string::npos);
  EXPECT_NE(text.find("--netres-percentiles"), std::string::npos);
}

}  // namespace
}  // namespace netres::load
