<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ClusterLink</name>
    <message>
        <source>lost the connection to Redis: %1</source>
        <translation>与 Redis 的连接已断开：%1</translation>
    </message>
    <message>
        <source>lost the subscription connection to Redis: %1</source>
        <translation>与 Redis 的订阅连接已断开：%1</translation>
    </message>
    <message>
        <source>cannot reach Redis (%1); local delivery goes on, retrying</source>
        <translation>无法连接 Redis（%1）；本地推送照常进行，正在重试</translation>
    </message>
    <message>
        <source>presence snapshot failed: %1</source>
        <translation>读取在线状态快照失败：%1</translation>
    </message>
    <message>
        <source>; local delivery goes on, reconnecting</source>
        <translation>；本地推送照常进行，正在重新连接</translation>
    </message>
    <message>
        <source>no echo on the presence channel for %1 ms</source>
        <translation>在线状态频道已 %1 毫秒没有回音</translation>
    </message>
    <message>
        <source>this node&apos;s presence had expired in Redis (or another process uses the same --node-id); registering again</source>
        <translation>本节点在 Redis 中的在线状态已过期（或有其他进程使用相同的 --node-id）；正在重新注册</translation>
    </message>
</context>
<context>
    <name>ConfigLoader</name>
    <message>
        <source>file</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Read settings from this INI file (command line wins).</source>
        <translation>从此 INI 文件读取设置（命令行优先）。</translation>
    </message>
    <message>
        <source>address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Address for WebSocket clients (default 0.0.0.0).</source>
        <translation>WebSocket 客户端的监听地址（默认 0.0.0.0）。</translation>
    </message>
    <message>
        <source>port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>WebSocket port, 0 for any free port (default 8013).</source>
        <translation>WebSocket 端口，0 表示任意空闲端口（默认 8013）。</translation>
    </message>
    <message>
        <source>Address of the inner push port (default 127.0.0.1).</source>
        <translation>内部推送端口的监听地址（默认 127.0.0.1）。</translation>
    </message>
    <message>
        <source>Inner push port, 0 for any free port (default 5678).</source>
        <translation>内部推送端口，0 表示任意空闲端口（默认 5678）。</translation>
    </message>
    <message>
        <source>duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>Drop a client idle longer than this (default 55s; units ms, s, m).</source>
        <translation>客户端空闲超过此时长即断开（默认 55s；单位 ms、s、m）。</translation>
    </message>
    <message>
        <source>Ping every client this often, 0 to never ping (default 20s).</source>
        <translation>每隔此时长向客户端发送 ping，0 表示不发送（默认 20s）。</translation>
    </message>
    <message>
        <source>Close a client that has not sent its uid by then (default: the heartbeat).</source>
        <translation>在此时间内未发送 uid 的客户端将被关闭（默认与心跳相同）。</translation>
    </message>
    <message>
        <source>size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Longest push request line (default 1M; units K, M).</source>
        <translation>推送请求行的最大长度（默认 1M；单位 K、M）。</translation>
    </message>
    <message>
        <source>Largest WebSocket message a client may send (default 1M).</source>
        <translation>客户端可发送的最大 WebSocket 消息（默认 1M）。</translation>
    </message>
    <message>
        <source>Largest WebSocket frame a client may send (default 1M).</source>
        <translation>客户端可发送的最大 WebSocket 帧（默认 1M）。</translation>
    </message>
    <message>
        <source>Drop a client whose unsent output exceeds this (default 8M).</source>
        <translation>客户端待发送数据超过此值即断开（默认 8M）。</translation>
    </message>
    <message>
        <source>count</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>Connections one uid may hold; the oldest is closed (default 16, 0: no cap).</source>
        <translation>每个 uid 可保持的连接数，超出时关闭最早的连接（默认 16，0 表示不限）。</translation>
    </message>
    <message>
        <source>level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>debug (every push), info, warning or error (default info).</source>
        <translation>debug（记录每次推送）、info、warning 或 error（默认 info）。</translation>
    </message>
    <message>
        <source>Events kept in memory for the console (default 10000).</source>
        <translation>控制台在内存中保留的事件数（默认 10000）。</translation>
    </message>
    <message>
        <source>language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Language of the console: zh_CN or en (default: system).</source>
        <translation>控制台语言：zh_CN 或 en（默认跟随系统）。</translation>
    </message>
    <message>
        <source>Run as a headless server, logging events to stdout.</source>
        <translation>以无界面服务器方式运行，事件输出到标准输出。</translation>
    </message>
    <message>
        <source>expected debug, info, warning or error</source>
        <translation>应为 debug、info、warning 或 error</translation>
    </message>
    <message>
        <source>expected zh_CN or en</source>
        <translation>应为 zh_CN 或 en</translation>
    </message>
    <message>
        <source>expected true or false</source>
        <translation>应为 true 或 false</translation>
    </message>
    <message>
        <source>%1: unknown setting &quot;%2&quot;</source>
        <translation>%1：未知设置项“%2”</translation>
    </message>
    <message>
        <source>%1: invalid value &quot;%2&quot; for %3: %4</source>
        <translation>%1：%3 的值“%2”无效：%4</translation>
    </message>
    <message>
        <source>expected an IP address such as 0.0.0.0, 127.0.0.1 or ::</source>
        <translation>应为 IP 地址，例如 0.0.0.0、127.0.0.1 或 ::</translation>
    </message>
    <message>
        <source>expected a port number from 0 to 65535</source>
        <translation>应为 0 到 65535 之间的端口号</translation>
    </message>
    <message>
        <source>expected a duration such as 55, 55s, 1500ms or 2m</source>
        <translation>应为时长，例如 55、55s、1500ms 或 2m</translation>
    </message>
    <message>
        <source>expected a size from 16 bytes to 1G, such as 65536, 64K or 1M</source>
        <translation>应为 16 字节到 1G 之间的大小，例如 65536、64K 或 1M</translation>
    </message>
    <message>
        <source>expected a whole number from %1 to %2</source>
        <translation>应为 %1 到 %2 之间的整数</translation>
    </message>
    <message>
        <source>Real-time uid push gateway and operator console.
Browsers connect over WebSocket and send their uid; backends write a JSON line
with a &quot;uid&quot; member to the push port and get &quot;ok&quot; or &quot;fail&quot; back.</source>
        <translation>实时 uid 推送网关与运维控制台。
浏览器通过 WebSocket 连接并发送自己的 uid；后端向推送端口写入一行带 &quot;uid&quot; 字段的 JSON，
并收到 &quot;ok&quot; 或 &quot;fail&quot; 作为回复。</translation>
    </message>
    <message>
        <source>unexpected argument &quot;%1&quot;</source>
        <translation>多余的参数“%1”</translation>
    </message>
    <message>
        <source>cannot read config file &quot;%1&quot;</source>
        <translation>无法读取配置文件“%1”</translation>
    </message>
    <message>
        <source>config file &quot;%1&quot; is not a valid INI file</source>
        <translation>配置文件“%1”不是有效的 INI 文件</translation>
    </message>
    <message>
        <source>%1: unknown section in &quot;%2&quot;</source>
        <translation>%1：“%2”中的节名未知</translation>
    </message>
    <message>
        <source>%1: a config file cannot include another</source>
        <translation>%1：配置文件不能再引用其他配置文件</translation>
    </message>
    <message>
        <source>WebSocket connections in all (default 0: the open-file limit less 512).</source>
        <translation>WebSocket 连接总数（默认 0：打开文件数上限减 512）。</translation>
    </message>
    <message>
        <source>WebSocket connections from one address (default 1024).</source>
        <translation>同一地址的 WebSocket 连接数（默认 1024）。</translation>
    </message>
    <message>
        <source>subnets</source>
        <translation>子网</translation>
    </message>
    <message>
        <source>Sources --max-conns-per-ip does not apply to, e.g. a proxy (default 127.0.0.0/8,::1; &quot;none&quot; for none).</source>
        <translation>不受 --max-conns-per-ip 限制的来源，例如反向代理（默认 127.0.0.0/8,::1；&quot;none&quot; 表示没有）。</translation>
    </message>
    <message>
        <source>Connections that have not sent their uid yet (default 10000).</source>
        <translation>尚未发送 uid 的连接数（默认 10000）。</translation>
    </message>
    <message>
        <source>Connections on the push port (default 1024).</source>
        <translation>推送端口的连接数（默认 1024）。</translation>
    </message>
    <message>
        <source>Unread replies before a push connection is no longer read (default 4096).</source>
        <translation>未读回复达到此数后暂停读取该推送连接（默认 4096）。</translation>
    </message>
    <message>
        <source>Besides loopback, admit these sources to the push port, e.g. 10.0.0.0/8,192.168.1.5.</source>
        <translation>除本机回环外，允许这些来源连接推送端口，例如 10.0.0.0/8,192.168.1.5。</translation>
    </message>
    <message>
        <source>PEM certificate (chain) for wss://; needs --tls-key.</source>
        <translation>wss:// 使用的 PEM 证书（链）；需要同时指定 --tls-key。</translation>
    </message>
    <message>
        <source>PEM private key for wss://; needs --tls-cert.</source>
        <translation>wss:// 使用的 PEM 私钥；需要同时指定 --tls-cert。</translation>
    </message>
    <message>
        <source>url</source>
        <translation>网址</translation>
    </message>
    <message>
        <source>Cluster mode: share presence and pushes with other gateways through this Redis, redis://[:password@]host[:port][/db].</source>
        <translation>集群模式：通过此 Redis 与其他网关共享在线状态和推送，格式 redis://[:密码@]主机[:端口][/库号]。</translation>
    </message>
    <message>
        <source>id</source>
        <translation>标识</translation>
    </message>
    <message>
        <source>This gateway&apos;s name in the cluster, 1-64 of A-Z a-z 0-9 _ . - (default: hostname-pid).</source>
        <translation>本网关在集群中的名称，由 1–64 个 A-Z a-z 0-9 _ . - 组成（默认：主机名-进程号）。</translation>
    </message>
    <message>
        <source>A node that stops renewing its presence is dropped after this (default 15s).</source>
        <translation>节点停止续期在线状态超过此时长即被移除（默认 15s）。</translation>
    </message>
    <message>
        <source>Connect and command timeout for Redis (default 3s).</source>
        <translation>Redis 的连接和命令超时（默认 3s）。</translation>
    </message>
    <message>
        <source>Keep pushes to a uid online nowhere this long (seconds, or 30m) and deliver them when it binds; the reply is &quot;queued&quot; (default 0: off).</source>
        <translation>推送给任何节点都不在线的 uid 时保存这么久（秒，或如 30m），在其绑定时投递；回复为 &quot;queued&quot;（默认 0：关闭）。</translation>
    </message>
    <message>
        <source>Stored messages per uid; the oldest is dropped (default 100).</source>
        <translation>每个 uid 保存的消息数上限，超出时丢弃最旧的（默认 100）。</translation>
    </message>
    <message>
        <source>Stored messages in all; the oldest is dropped (default 100000).</source>
        <translation>保存的消息总数上限，超出时丢弃最旧的（默认 100000）。</translation>
    </message>
    <message>
        <source>SQLite file of the offline store on a single node (default: offline.sqlite in the application data folder).</source>
        <translation>单节点离线存储使用的 SQLite 文件（默认：应用数据目录中的 offline.sqlite）。</translation>
    </message>
    <message>
        <source>kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>epoll (headless default: cost independent of idle clients) or default (Qt&apos;s).</source>
        <translation>epoll（无界面时的默认值：开销与空闲客户端数量无关）或 default（Qt 自带）。</translation>
    </message>
    <message>
        <source>expected 1 to 64 of A-Z a-z 0-9 _ . -</source>
        <translation>应为 1 到 64 个 A-Z a-z 0-9 _ . - 字符</translation>
    </message>
    <message>
        <source>expected a duration from 1s to 10m</source>
        <translation>应为 1s 到 10m 之间的时长</translation>
    </message>
    <message>
        <source>expected 0 (off) or a duration from 1s to 10 days, such as 3600 or 30m</source>
        <translation>应为 0（关闭）或 1 秒到 10 天之间的时长，例如 3600 或 30m</translation>
    </message>
    <message>
        <source>expected epoll or default</source>
        <translation>应为 epoll 或 default</translation>
    </message>
    <message>
        <source>expected addresses or subnets such as 10.0.0.0/8,192.168.1.5</source>
        <translation>应为地址或子网，例如 10.0.0.0/8,192.168.1.5</translation>
    </message>
    <message>
        <source>expected a file name</source>
        <translation>应为文件名</translation>
    </message>
    <message>
        <source>--tls-cert and --tls-key go together</source>
        <translation>--tls-cert 和 --tls-key 必须同时指定</translation>
    </message>
</context>
<context>
    <name>Listener</name>
    <message>
        <source>invalid address %1</source>
        <translation>无效地址 %1</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Push Console — ws %1, push %2</source>
        <translation>推送控制台 — ws %1，推送 %2</translation>
    </message>
    <message>
        <source>Push Console — not listening</source>
        <translation>推送控制台 — 未监听</translation>
    </message>
</context>
<context>
    <name>PushServer</name>
    <message>
        <source>cannot listen for WebSocket clients on %1:%2: %3</source>
        <translation>无法在 %1:%2 上监听 WebSocket 客户端：%3</translation>
    </message>
    <message>
        <source>cannot listen for pushes on %1:%2: %3</source>
        <translation>无法在 %1:%2 上监听推送：%3</translation>
    </message>
    <message>
        <source>invalid Redis URL: %1</source>
        <translation>Redis 网址无效：%1</translation>
    </message>
</context>
<context>
    <name>RedisClient</name>
    <message>
        <source>cannot resolve %1: %2</source>
        <translation>无法解析 %1：%2</translation>
    </message>
    <message>
        <source>out of memory</source>
        <translation>内存不足</translation>
    </message>
    <message>
        <source>connect timeout (%1 ms)</source>
        <translation>连接超时（%1 毫秒）</translation>
    </message>
    <message>
        <source>no reply for %1 ms</source>
        <translation>%1 毫秒无回复</translation>
    </message>
</context>
<context>
    <name>RedisUrl</name>
    <message>
        <source>expected redis://[:password@]host[:port][/db]</source>
        <translation>应为 redis://[:密码@]主机[:端口][/库号]</translation>
    </message>
    <message>
        <source>query and fragment are not supported in a Redis URL</source>
        <translation>Redis 网址不支持查询参数和片段</translation>
    </message>
    <message>
        <source>expected a port number from 1 to 65535</source>
        <translation>应为 1 到 65535 之间的端口号</translation>
    </message>
    <message>
        <source>expected a database number after the slash, such as /0 or /2</source>
        <translation>斜杠后应为数据库编号，例如 /0 或 /2</translation>
    </message>
    <message>
        <source>a user name needs a password (redis://user:password@host)</source>
        <translation>用户名需要配合密码（redis://用户:密码@主机）</translation>
    </message>
</context>
<context>
    <name>SqliteOfflineStore</name>
    <message>
        <source>cannot open the offline store %1: %2</source>
        <translation>无法打开离线存储 %1：%2</translation>
    </message>
    <message>
        <source>cannot create its folder</source>
        <translation>无法创建其所在目录</translation>
    </message>
    <message>
        <source>the Qt SQLite driver is missing (Debian: libqt6sql6-sqlite)</source>
        <translation>缺少 Qt 的 SQLite 驱动（Debian：libqt6sql6-sqlite）</translation>
    </message>
</context>
<context>
    <name>TlsContext</name>
    <message>
        <source>TLS is not available (Qt&apos;s OpenSSL backend is missing)</source>
        <translation>TLS 不可用（缺少 Qt 的 OpenSSL 后端）</translation>
    </message>
    <message>
        <source>cannot read certificate file &quot;%1&quot;: %2</source>
        <translation>无法读取证书文件 &quot;%1&quot;：%2</translation>
    </message>
    <message>
        <source>cannot read key file &quot;%1&quot;: %2</source>
        <translation>无法读取私钥文件 &quot;%1&quot;：%2</translation>
    </message>
    <message>
        <source>&quot;%1&quot; holds no PEM certificate</source>
        <translation>&quot;%1&quot; 中没有 PEM 证书</translation>
    </message>
    <message>
        <source>&quot;%1&quot; holds no unencrypted PEM private key</source>
        <translation>&quot;%1&quot; 中没有未加密的 PEM 私钥</translation>
    </message>
    <message>
        <source>the key in &quot;%1&quot; does not belong to the certificate in &quot;%2&quot;</source>
        <translation>&quot;%1&quot; 中的私钥与 &quot;%2&quot; 中的证书不匹配</translation>
    </message>
    <message>
        <source>the certificate in &quot;%1&quot; expired on %2</source>
        <translation>&quot;%1&quot; 中的证书已于 %2 过期</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>pushconsole: %1
Try &quot;pushconsole --help&quot;.
</source>
        <translation>pushconsole：%1
请运行 “pushconsole --help” 查看用法。
</translation>
    </message>
    <message>
        <source>No display found: running headless (as with --no-gui).
</source>
        <translation>未找到显示器：以无界面方式运行（等同于 --no-gui）。
</translation>
    </message>
    <message>
        <source>pushconsole: --event-loop epoll needs --no-gui
</source>
        <translation>pushconsole：--event-loop epoll 需要 --no-gui
</translation>
    </message>
</context>
</TS>
