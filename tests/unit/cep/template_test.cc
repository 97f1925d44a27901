// Unit tests of label/annotation templates (cep/expr/expr.h Template).
#include <memory>
#include <string>
#include <vector>

#include "cep/expr/expr.h"
#include "gtest/gtest.h"

namespace vigil::cep {
namespace {

// An expression reading one field slot.
ExprPtr FieldExpr(int32_t slot) {
  auto e = std::make_shared<Expr>();
  ExprNode n;
  n.op = ExprOp::kField;
  n.index = slot;
  e->set_root(e->AddNode(n));
  return e;
}

Template::Part Lit(std::string s) { return Template::Part{std::move(s), nullptr}; }
Template::Part Hole(int32_t slot) { return Template::Part{"", FieldExpr(slot)}; }

std::string RenderOne(const Value& v) {
  std::vector<Value> fields = {v};
  Template t;
  t.parts = {Hole(0)};
  EvalEnv env;
  env.fields = fields.data();
  return t.Render(env);
}

TEST(Template, LiteralsAndHoles) {
  std::vector<Value> fields = {Value::String("4111"), Value::Float(0.5), Value::Float(900.0)};
  Template t;
  t.parts = {Lit("card "), Hole(0), Lit(": "), Hole(1), Lit(" then "), Hole(2)};
  EvalEnv env;
  env.fields = fields.data();
  EXPECT_EQ(t.Render(env), "card 4111: 0.5 then 900");
}

TEST(Template, EmptyAndLiteralOnly) {
  Template empty;
  EXPECT_EQ(empty.Render(EvalEnv{}), "");
  Template lit;
  lit.parts = {Lit("{braces} stay"), Lit("")};
  EXPECT_EQ(lit.Render(EvalEnv{}), "{braces} stay");
}

TEST(Template, HoleOfComputedExpression) {
  // {count * 2}
  auto e = std::make_shared<Expr>();
  ExprNode f;
  f.op = ExprOp::kField;
  f.index = 0;
  int32_t a = e->AddNode(f);
  ExprNode c;
  c.op = ExprOp::kConst;
  c.index = e->AddConst(Value::Int(2));
  int32_t b = e->AddNode(c);
  ExprNode mul;
  mul.op = ExprOp::kMul;
  mul.a = a;
  mul.b = b;
  e->set_root(e->AddNode(mul));
  Template t;
  t.parts = {Lit("n="), Template::Part{"", e}};
  std::vector<Value> fields = {Value::Int(21)};
  EvalEnv env;
  env.fields = fields.data();
  EXPECT_EQ(t.Render(env), "n=42");
}

TEST(Template, ValueForms) {
  EXPECT_EQ(RenderOne(Value()), "null");
  EXPECT_EQ(RenderOne(Value::Bool(true)), "true");
  EXPECT_EQ(RenderOne(Value::Bool(false)), "false");
  EXPECT_EQ(RenderOne(Value::Int(-42)), "-42");
  EXPECT_EQ(RenderOne(Value::String("raw \"text\" {x}")), "raw \"text\" {x}");
  EXPECT_EQ(RenderOne(Value::Timestamp(EventTime(1700000000000))), "1700000000000");
}

TEST(Template, ShortestNumberForms) {
  EXPECT_EQ(RenderOne(Value::Float(0.5)), "0.5");
  EXPECT_EQ(RenderOne(Value::Float(900.0)), "900");
  EXPECT_EQ(RenderOne(Value::Float(100.0)), "100");
  EXPECT_EQ(RenderOne(Value::Float(1e21)), "1e+21");
  EXPECT_EQ(RenderOne(Value::Float(1e16)), "1e+16");
  EXPECT_EQ(RenderOne(Value::Float(1e15)), "1000000000000000");
  EXPECT_EQ(RenderOne(Value::Float(1e-7)), "1e-07");
  EXPECT_EQ(RenderOne(Value::Float(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(RenderOne(Value::Float(123456789.0)), "123456789");
  EXPECT_EQ(RenderOne(Value::Float(-2.25)), "-2.25");
  EXPECT_EQ(RenderOne(Value::Float(1.5e300)), "1.5e+300");
}

}  // namespace
}  // namespace vigil::cep
