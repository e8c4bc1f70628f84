// The one translation unit that compiles Asio and Beast (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set on loa_adapters and propagate to every user), so the
// rest of the tree includes only declarations and builds stay fast on two cores.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
