#pragma once
// FastCGI and uwsgi upstreams: pools of application workers (php-fpm, uWSGI, ...) reached over
// TCP or unix sockets.
//
//  - Servers are picked by the shared balancer (upstream/host_set.h: least outstanding requests or
//    round robin, passive health, panic mode). Each server takes at most max_requests_per_server
//    requests at once from this gateway worker; the rest wait in a bounded FIFO (queue_size,
//    queue_timeout) and are refused with 503 + Retry-After when it is full or they waited too long.
//  - FastCGI: BEGIN_REQUEST (responder, FCGI_KEEP_CONN) + PARAMS + STDIN records streamed as the
//    body arrives; STDOUT read as a CGI response and streamed back; STDERR lines go to the error log
//    with the request id; END_REQUEST ends the response (CANT_MPX_CONN / OVERLOADED: retried on
//    another server when nothing of the body was consumed, else 503). Connections are kept idle
//    (keepalive per server) and reused. FCGI_GET_VALUES is sent on each new connection without
//    waiting for the answer; if the worker says FCGI_MPXS_CONNS=1, later requests share connections
//    up to FCGI_MAX_REQS. A client that goes away gets FCGI_ABORT_REQUEST; the connection is closed
//    if END_REQUEST does not follow within a short grace.
//  - uwsgi: the vars packet (modifier1 0) then the body as it arrives; the HTTP/1.x answer parsed
//    and streamed back. One connection per request (uWSGI closes it after the response).
//  - Timeouts: connect (504), response = first byte after the last request byte (504), idle
//    between response reads (504, or a reset once the response started).
//  - Optional active health: GET health_check.path to every server each interval.
//
// Threading: one instance per configured upstream per worker thread; everything on that thread.
#include "config/config.h"
#include "core/dispatcher.h"
#include "upstream/upstream.h"

namespace gw::upstream {

enum class FramedProtocol { FastCgi, Uwsgi };

UpstreamPtr createFramedUpstream(Dispatcher& dispatcher, const config::Config& cfg, const config::Upstream& up,
                                 FramedProtocol protocol);

}  // namespace gw::upstream
