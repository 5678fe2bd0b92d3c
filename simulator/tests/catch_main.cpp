// The one Catch2 main shared by every test executable (Debian's Catch2 v2 has no
// Catch2WithMain target).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
