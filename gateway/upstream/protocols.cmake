# Upstream protocol layers (issue 4): pure, socket-free encoders/decoders over libevent evbuffers.
#   gw_cgi     CGI/WSGI environ builder (shared) + CGI response-header parser (RFC 3875 §6)
#   gw_fastcgi FastCGI 1.0 record encoders and incremental decoder; STDOUT → CGI response reader
#   gw_uwsgi   uwsgi vars packet encoder (modifier1 0); HTTP/1.x response reader (on gw_http1's parser)
# Included from gateway/CMakeLists.txt (`include(upstream/protocols.cmake)`) or, until then, from
# the tests that use it. Needs gw_core, gw_http and gw_http1 to exist already.
set(_gw_proto_dir ${CMAKE_CURRENT_LIST_DIR})
add_library(gw_cgi STATIC ${_gw_proto_dir}/cgi/environ.cc ${_gw_proto_dir}/cgi/response.cc)
target_link_libraries(gw_cgi PUBLIC gw_http)
add_library(gw_fastcgi STATIC ${_gw_proto_dir}/fastcgi/fastcgi.cc ${_gw_proto_dir}/fastcgi/stdout_reader.cc)
target_link_libraries(gw_fastcgi PUBLIC gw_core gw_cgi)
add_library(gw_uwsgi STATIC ${_gw_proto_dir}/uwsgi/uwsgi.cc ${_gw_proto_dir}/uwsgi/response_reader.cc)
target_link_libraries(gw_uwsgi PUBLIC gw_cgi gw_http1)  # http1::ResponseParser
