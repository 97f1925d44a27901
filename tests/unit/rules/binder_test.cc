#include <gtest/gtest.h>

#include "rules/compiler.h"

TEST(Placeholder, Builds) {}
