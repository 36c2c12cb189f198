#pragma once

// Every reason an event can give, in one list: the enum name, the stable
// code (JSON "reason"), the names of its arguments in order ('#': a number,
// '@': another reason's code, followed by that reason's arguments; else a
// string) and the English rendering the headless log prints (%1... the
// arguments). The English stays byte for byte what scripts grep; the console
// translates from the code (ui/EventText.cpp), never from this text.
// docs/events.md documents each one.
#define PUSH_EVENT_REASONS(X)                                                                      \
    /* listening / stopped */                                                                      \
    X(Listening, "listening",                                                                      \
        "ws,text,http,max_fds,loop,tls,auth,trusted_proxies,proxy_protocol,node,redis,offline,"    \
        "http_tls",                                                                                \
        "")                                                                                        \
    X(ListenersClosed, "listeners_closed", "", "listeners closed")                                 \
    X(ShutdownDone, "shutdown_done", "#clients,#aborted,#undelivered_bytes",                       \
        "clients=%1 aborted=%2 undelivered-bytes=%3")                                              \
    /* connect */                                                                                  \
    X(Opened, "opened", "path", "%1")                                                              \
    /* WebSocket close and reject */                                                               \
    X(Closed, "closed", "", "closed")                                                              \
    X(ClosedByPeer, "closed_by_peer", "", "closed by peer")                                        \
    X(ClientClosed, "client_closed", "", "client closed")                                          \
    X(ClientClosedWith, "client_closed_with", "text", "client closed: %1")                         \
    X(DisconnectedByOperator, "disconnected_by_operator", "", "disconnected by operator")          \
    X(InvalidUid, "invalid_uid", "", "invalid uid")                                                \
    X(BindTimeout, "bind_timeout", "", "bind timeout")                                             \
    X(CloseTimeout, "close_timeout", "", "close timeout")                                          \
    X(ShutdownTimeout, "shutdown_timeout", "", "shutdown timeout")                                 \
    X(ServerShuttingDown, "server_shutting_down", "", "server shutting down")                      \
    X(UidLimit, "uid_limit", "", "too many connections for this uid")                              \
    X(UidLimitOtherTokens, "uid_limit_other_tokens", "#limit",                                     \
        "too many connections for this uid (%1), none of them with this token")                    \
    X(TokenLimit, "token_limit", "", "too many connections for this token")                        \
    X(AddressLimit, "address_limit", "#limit", "too many connections from this address (%1)")      \
    X(UnboundLimit, "unbound_limit", "#limit", "too many connections without a uid (%1)")          \
    X(ConnectionLimit, "connection_limit", "#limit", "connection limit reached (%1)")              \
    X(EvictedUnbound, "evicted_unbound", "#limit",                                                 \
        "evicted: too many connections without a uid (%1)")                                        \
    X(MessageTooLarge, "message_too_large", "", "message too large")                               \
    X(FrameTooLarge, "frame_too_large", "", "frame too large")                                     \
    X(InvalidUtf8, "invalid_utf8", "", "invalid UTF-8")                                            \
    X(InvalidCloseFrame, "invalid_close_frame", "", "invalid close frame")                         \
    X(StrayContinuation, "stray_continuation", "", "continuation without a message")               \
    X(InterleavedMessage, "interleaved_message", "", "new message before the last one ended")      \
    X(ReservedBits, "reserved_bits", "", "reserved bits set")                                      \
    X(UnmaskedFrame, "unmasked_frame", "", "unmasked client frame")                                \
    X(UnknownOpcode, "unknown_opcode", "", "unknown opcode")                                       \
    X(InvalidLength, "invalid_length", "", "invalid length")                                       \
    X(BadControlFrame, "bad_control_frame", "", "fragmented or oversized control frame")           \
    X(ReadError, "read_error", "error", "read error: %1")                                          \
    X(WriteFailed, "write_failed", "", "write failed")                                             \
    X(WriteFailedWith, "write_failed_with", "error", "write failed: %1")                           \
    X(SlowConsumer, "slow_consumer", "#limit", "slow consumer: output queue over %1 bytes")        \
    X(SlowConsumerPing, "slow_consumer_ping", "", "slow consumer: ping could not be queued")       \
    X(SlowConsumerClose, "slow_consumer_close", "",                                                \
        "slow consumer: close frame could not be queued")                                          \
    X(HeartbeatTimeout, "heartbeat_timeout", "#idle_seconds", "heartbeat timeout (idle %1 s)")     \
    X(HandshakeRefused, "handshake_refused", "error", "handshake refused: %1")                     \
    X(ProxyHeaderRefused, "proxy_header_refused", "error", "PROXY header refused: %1")             \
    X(ForwardedForIgnored, "forwarded_for_ignored", "error",                                       \
        "%1: the proxy's address counts instead")                                                  \
    X(RefusalsRepeated, "refusals_repeated", "#count,@last",                                       \
        "%1 more connections refused in the last second (last: %2)")                               \
    X(EvictionsRepeated, "evictions_repeated", "#count,@last",                                     \
        "%1 more connections without a uid evicted in the last second (last: %2)")                 \
    /* the push port and the HTTP API */                                                           \
    X(PushConnection, "push_connection", "@reason", "push connection: %1")                         \
    X(Idle, "idle", "", "idle")                                                                    \
    X(HttpRequest, "http_request", "", "HTTP request")                                             \
    X(LineTimeout, "line_timeout", "#limit_ms",                                                    \
        "line not finished within %1 ms (--text-line-timeout)")                                    \
    X(IdleTimeout, "idle_timeout", "#idle_ms", "idle for %1 ms (--text-idle-timeout)")             \
    X(IdleTimeoutUnread, "idle_timeout_unread", "#idle_ms",                                        \
        "idle for %1 ms (--text-idle-timeout); replies left unread")                               \
    X(PushPortLimit, "push_port_limit", "#limit", "push port: connection limit reached (%1)")      \
    X(PushPortNotAllowed, "push_port_not_allowed", "",                                             \
        "push port: source not allowed (see --text-allow)")                                        \
    X(PushPortHttp, "push_port_http", "",                                                          \
        "push port: HTTP request (a web page?); connection closed, nothing pushed")                \
    X(HttpApiRefused, "http_api_refused", "@reason", "HTTP API: %1")                               \
    X(LineTooLong, "line_too_long", "#limit", "line too long (limit %1 bytes); connection closed") \
    X(OutOfFdsWs, "out_of_fds_ws", "", "out of file descriptors: WebSocket connection refused")    \
    X(OutOfFdsPush, "out_of_fds_push", "", "out of file descriptors: push connection refused")     \
    X(OutOfFdsHttp, "out_of_fds_http", "", "out of file descriptors: HTTP connection refused")     \
    /* pushes */                                                                                   \
    X(EmptyLine, "empty_line", "", "empty line")                                                   \
    X(NotUtf8, "not_utf8", "", "not UTF-8")                                                        \
    X(NotJsonObject, "not_json_object", "", "not a JSON object")                                   \
    X(InvalidJson, "invalid_json", "#offset,error", "invalid JSON at offset %1: %2")               \
    X(MissingUid, "missing_uid", "", "missing uid")                                                \
    X(EmptyUidList, "empty_uid_list", "", "empty uid list")                                        \
    X(TooManyUids, "too_many_uids", "", "too many uids")                                           \
    X(StoreFailed, "store_failed", "", "the offline store could not take it")                      \
    X(StoredWhileOffline, "stored_while_offline", "", "stored while offline")                      \
    X(StoredTooLarge, "stored_too_large", "#limit",                                                \
        "stored message larger than --max-output (%1 bytes): dropped")                             \
    X(OfflineRefused, "offline_refused", "#size,#uids,uid,#max_bytes_per_uid,#max_bytes",          \
        "offline store: a message of %1 bytes for %2 uid(s) (%3) is over the caps "                \
        "(--offline-max-bytes-per-uid %4, --offline-max-bytes %5): not stored")                    \
    X(OfflineDroppedOwn, "offline_dropped_own", "#own,uid",                                        \
        "offline store full: dropped the %1 oldest message(s) of uid %2 (per-uid caps)")           \
    X(OfflineDroppedAll, "offline_dropped_all", "#all",                                            \
        "offline store full: dropped the %1 oldest message(s) of all (total caps)")                \
    X(OfflineDroppedBoth, "offline_dropped_both", "#own,uid,#all",                                 \
        "offline store full: dropped the %1 oldest message(s) of uid %2 (per-uid caps) and the "   \
        "%3 oldest message(s) of all (total caps)")                                                \
    X(OfflineFailed, "offline_failed", "operation,error", "offline store: %1 failed: %2")          \
    X(Repeated, "repeated", "#count,#seconds,@last", "%1 more in the last %2 s (last: %3)")        \
    X(EventsSkipped, "events_skipped", "#count,by_type", "%1 events skipped (%2)")                 \
    /* anything else that went wrong: the message as it was written */                             \
    X(StartFailed, "start_failed", "message", "%1")                                                \
    X(Warning, "warning", "message", "%1")                                                         \
    X(Text, "text", "message", "%1")                                                               \
    /* the cluster */                                                                              \
    X(ClusterUp, "cluster_up", "node,redis,#nodes,#remote_uids",                                   \
        "state=up node=%1 redis=%2 nodes=%3 remote-uids=%4")                                       \
    X(ClusterDown, "cluster_down", "node,redis,reason",                                            \
        "state=down node=%1 redis=%2 reason=\"%3\"")                                               \
    X(ClusterRejoin, "cluster_rejoin", "node,reason", "state=rejoin node=%1 reason=\"%2\"")        \
    X(ClusterPublishRefused, "cluster_publish_refused", "node,#in_flight,#limit,reason",           \
        "node=%1 publish=refused in-flight=%2 limit=%3 reason=\"%4\"")                             \
    /* reload (SIGHUP) */                                                                          \
    X(ReloadOk, "reload_ok", "applied,reloaded,restart_needed",                                    \
        "result=ok applied=%1 reloaded=%2 restart-needed=%3")                                      \
    X(ReloadRefused, "reload_refused", "error", "result=refused error=\"%1\" changed=none")
