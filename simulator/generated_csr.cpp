// GenerateCsrData: plausible CSR data derived from the TN alone, so the same
// TN answers with the same data on every run, machine and compiler.
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

#include "csrsim/scenario.hpp"

namespace csrsim {

namespace {

constexpr std::string_view kFirstNames[] = {"Alice", "Marcus", "Priya", "James", "Sofia",  "Daniel",
                                            "Mei",   "Carlos", "Grace", "Omar",  "Hannah", "Tyrone"};
constexpr std::string_view kLastNames[] = {"Johnson", "Nguyen", "Patel", "Garcia", "Smith",  "Okafor",
                                           "Kim",     "Miller", "Rossi", "Brown",  "Walker", "Haddad"};
constexpr std::string_view kBusinessNames[] = {
    "Blue Ridge Dental",  "Triangle Auto Repair", "Oak Street Bakery", "Summit Legal Group",     "Riverside Veterinary",
    "Pinecone Coffee Co", "Harbor Freightways",   "Maple Leaf Realty", "Lakeside Family Clinic", "Ironworks Fitness"};
constexpr std::string_view kStreetNames[] = {"Main", "Oak",  "Maple", "Cedar",  "Elm",  "Pine",  "Washington",
                                             "Lake", "Hill", "Park",  "Church", "Mill", "Ridge", "Spring"};
constexpr std::string_view kStreetSuffixes[] = {"ST", "AVE", "RD", "DR", "LN", "BLVD", "CT", "WAY", "PL"};

struct CityStateZip {
  std::string_view city;
  std::string_view state;
  std::string_view zip;
};
constexpr CityStateZip kPlaces[] = {
    {"Durham", "NC", "27707"},   {"Raleigh", "NC", "27601"},  {"Austin", "TX", "78701"},  {"Denver", "CO", "80202"},
    {"Portland", "OR", "97205"}, {"Columbus", "OH", "43215"}, {"Madison", "WI", "53703"}, {"Boise", "ID", "83702"},
    {"Richmond", "VA", "23219"}, {"Tucson", "AZ", "85701"},   {"Albany", "NY", "12207"},  {"Savannah", "GA", "31401"}};

// FNV-1a, 64 bit: a fixed, portable hash (std::hash varies by library).
std::uint64_t Fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// A deterministic stream of numbers seeded by the TN's hash (splitmix64).
class Draws {
 public:
  explicit Draws(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Below(std::uint64_t bound) { return Next() % bound; }

  template <typename T, std::size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_;
};

// The TN with its last four digits advanced by `offset` (wrapping within the
// line block), or nullopt when the TN does not end in four digits.
std::optional<std::string> Neighbour(std::string_view tn, unsigned offset) {
  if (tn.size() < 4) return std::nullopt;
  std::string_view line = tn.substr(tn.size() - 4);
  unsigned number = 0;
  for (char c : line) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    number = number * 10 + static_cast<unsigned>(c - '0');
  }
  std::string next = std::to_string((number + offset) % 10000);
  return std::string(tn.substr(0, tn.size() - 4)) + std::string(4 - next.size(), '0') + next;
}

}  // namespace

CsrData GenerateCsrData(std::string_view tn) {
  Draws draws(Fnv1a(tn));
  CsrData data;
  data.account_number = std::to_string(100000000 + draws.Below(900000000));
  if (draws.Below(2) == 0) {
    data.customer_name = std::string(draws.Pick(kFirstNames)) + " " + std::string(draws.Pick(kLastNames));
  } else {
    data.customer_name = std::string(draws.Pick(kBusinessNames));
  }

  std::string house_number = std::to_string(100 + draws.Below(9900));
  std::string_view street = draws.Pick(kStreetNames);
  std::string_view suffix = draws.Pick(kStreetSuffixes);
  const CityStateZip& place = draws.Pick(kPlaces);
  std::string unparsed = house_number + " " + std::string(street) + " " + std::string(suffix) + " " +
                         std::string(place.city) + " " + std::string(place.state) + " " + std::string(place.zip);
  // kServiceAddressFields order.
  data.service_address = {{"UnparsedAddress", unparsed},       {"HouseNumber", house_number},
                          {"StreetName", std::string(street)}, {"StreetSuffix", std::string(suffix)},
                          {"City", std::string(place.city)},   {"State", std::string(place.state)},
                          {"Zip", std::string(place.zip)}};

  data.working_telephone_number = std::string(tn);
  data.working_telephone_numbers_on_account.push_back(std::string(tn));
  std::uint64_t neighbours = draws.Below(3);
  for (unsigned offset = 1; offset <= neighbours; ++offset) {
    if (std::optional<std::string> other = Neighbour(tn, offset)) {
      data.working_telephone_numbers_on_account.push_back(std::move(*other));
    }
  }
  return data;
}

}  // namespace csrsim
