#include <string>

#include "cep/expr/expr.h"

namespace vigil::cep {

std::string Template::Render(const EvalEnv& env) const {
  std::string out;
  for (const Part& p : parts) {
    if (p.expr == nullptr) {
      out.append(p.literal);
      continue;
    }
    Value v = p.expr->Eval(env);
    if (v.type() == Type::kString) {
      out.append(v.as_string());  // no copy through ToString()
    } else {
      out.append(v.ToString());
    }
  }
  return out;
}

}  // namespace vigil::cep
