#include <catch2/catch.hpp>

#include "csrsim/url.hpp"

using namespace csrsim;

TEST_CASE("ParseHttpUrl splits scheme, lower-case host, port and target") {
  auto url = ParseHttpUrl("HTTPS://Hooks.Example.TEST:8443/csr/cb?x=1#frag");
  REQUIRE(url);
  CHECK(url->https);
  CHECK(url->host == "hooks.example.test");
  CHECK(url->port == 8443);
  CHECK(url->target == "/csr/cb?x=1");

  auto bare = ParseHttpUrl("http://127.0.0.1?q");
  REQUIRE(bare);
  CHECK(bare->port == 80);
  CHECK(bare->target == "/?q");

  auto v6 = ParseHttpUrl("http://[::1]:9000/cb");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 9000);
}

TEST_CASE("ParseHttpUrl refuses what could never be delivered") {
  for (const char* text : {"",
                           "not a url",
                           "ftp://example.test/",
                           "http://",
                           "https:///path",
                           "http://:8080/x",
                           "http://[::1]:/cb",
                           "http://host:/cb",
                           "http://[::1/x",
                           "http://[zz]/x",
                           "http://[::1]x/",
                           "http://host:port/",
                           "http://127.0.0.1:0/cb",
                           "http://127.0.0.1:99999/cb",
                           "http://127.0.0.1:+80/cb",
                           "http://u:p@host/cb",
                           "http://exa mple.test/",
                           "http://host/a b",
                           "http://ho%73t/",
                           "http://h\xc3\xa9.test/"}) {
    INFO(text);
    CHECK_FALSE(ParseHttpUrl(text));
  }
}

TEST_CASE("IsLoopbackHost knows the spellings of this machine") {
  for (const char* host :
       {"localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "127.1", "127.255.0.9", "2130706433", "0x7f.0.0.1",
        "0.0.0.0", "0", "::1", "::", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"}) {
    INFO(host);
    CHECK(IsLoopbackHost(host));
  }
  for (const char* host :
       {"example.test", "10.0.0.1", "128.0.0.1", "::2", "fe80::1", "localhost.example.test", "mylocalhost"}) {
    INFO(host);
    CHECK_FALSE(IsLoopbackHost(host));
  }
}
