#pragma once
// YAML scalars as `vigil test` reads them: typed by the YAML 1.2 core schema (a quoted scalar
// is always a string), turned into JSON for input events, and written back compactly for
// failure reports.
#include <string>
#include <string_view>

#include "yaml-cpp/yaml.h"

namespace vigil::ruletest {

enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

// The kind of a scalar or null node. Plain scalars: "", "~", "null" (and Null, NULL) are null;
// true/false (and True, TRUE, False, FALSE) bool; [-+]?[0-9]+ int; decimals and exponents
// float; anything else, and every quoted or `!!str` scalar, a string.
ScalarKind KindOf(const YAML::Node& n);

// A 1-based "line:col" position of a node (yaml-cpp marks are 0-based); "?" when unknown.
struct Pos {
  int line = 0;
  int col = 0;
};
Pos PosOf(const YAML::Node& n);

// Appends `n` as JSON: maps become objects (keys must be scalars), sequences arrays, scalars
// by KindOf (numbers normalised to JSON syntax: "+5" -> 5, ".5" -> 0.5). Returns false and
// sets *bad to the offending node when `n` holds something JSON cannot (a map key that is not
// a scalar, .inf or .nan).
bool AppendYamlAsJson(const YAML::Node& n, std::string* out, YAML::Node* bad);

// A one-line YAML flow rendering: {a: 1, b: [x, "4111"]}. Strings are quoted only when a bare
// word would read differently (a number, a bool, null, flow punctuation, spaces at the ends).
std::string RenderFlow(const YAML::Node& n);
// A scalar as RenderFlow writes it.
std::string RenderScalar(const YAML::Node& n);

}  // namespace vigil::ruletest
