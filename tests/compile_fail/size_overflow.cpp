// A compile-time size that does not fit std::size_t: a Dense of 2^33 units on 2^32 inputs
// has 2^65 weights. Once this wrapped silently (Shape<2^32, 2^32>::size was 0); now the
// overflowing product is one error naming what happened.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<4294967296>, tn::Dense<8589934592>>;
#else
using Model = tn::Sequential<tn::Input<4294967296>, tn::Dense<1>>;
#endif

static_assert(tn::Shape<65536, 65536>::size == 4294967296);
constexpr std::size_t params = Model::param_count;

int main() { return params == 0; }
