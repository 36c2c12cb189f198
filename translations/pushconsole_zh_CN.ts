<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AttachDialog</name>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Attach to a gateway</source>
        <translation>附加到网关</translation>
    </message>
    <message>
        <source>none: the gateway has no --http-api-key-file</source>
        <translation>无：网关未设置 --http-api-key-file</translation>
    </message>
    <message>
        <source>none: the system&apos;s CA certificates</source>
        <translation>无：使用系统的 CA 证书</translation>
    </message>
    <message>
        <source>Gateway &amp;URL:</source>
        <translation>网关网址(&amp;U)：</translation>
    </message>
    <message>
        <source>API &amp;key file:</source>
        <translation>API 密钥文件(&amp;K)：</translation>
    </message>
    <message>
        <source>API key file</source>
        <translation>API 密钥文件</translation>
    </message>
    <message>
        <source>&amp;CA file (https):</source>
        <translation>CA 文件（https）(&amp;C)：</translation>
    </message>
    <message>
        <source>CA certificates</source>
        <translation>CA 证书</translation>
    </message>
    <message>
        <source>The gateway&apos;s HTTP API, as in its --http-port and --http-host. Only the key file&apos;s path is remembered, never the key.</source>
        <translation>网关的 HTTP 接口，与其 --http-port 和 --http-host 一致。只会记住密钥文件的路径，绝不保存密钥本身。</translation>
    </message>
    <message>
        <source>&amp;Attach</source>
        <translation>附加(&amp;A)</translation>
    </message>
</context>
<context>
    <name>AttachMode</name>
    <message>
        <source>Open the console on the gateway whose HTTP API is at URL (http[s]://HOST:PORT) instead of running one here.</source>
        <translation>附加到 HTTP 接口位于该网址（http[s]://HOST:PORT）的网关并打开控制台，而不在本机运行网关。</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>网址</translation>
    </message>
    <message>
        <source>With --attach: the file holding the gateway&apos;s API key.</source>
        <translation>与 --attach 一起使用：存放网关 API 密钥的文件。</translation>
    </message>
    <message>
        <source>FILE</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>With --attach and https: CA certificates (PEM) to trust besides the system&apos;s.</source>
        <translation>与 --attach 一起使用且为 https 时：除系统证书外额外信任的 CA 证书（PEM）。</translation>
    </message>
    <message>
        <source>The console&apos;s language (en, zh_CN).</source>
        <translation>控制台的语言（en、zh_CN）。</translation>
    </message>
    <message>
        <source>LANG</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>
Attaching to a gateway elsewhere:
</source>
        <translation>
附加到其他位置的网关：
</translation>
    </message>
    <message>
        <source>The Push Console attached to a gateway that runs elsewhere.</source>
        <translation>附加到在其他位置运行的网关的推送控制台。</translation>
    </message>
    <message>
        <source>%1 (with --attach only --api-key-file, --attach-ca and --lang are allowed: no gateway runs here)</source>
        <translation>%1（使用 --attach 时只允许 --api-key-file、--attach-ca 和 --lang：本机不运行网关）</translation>
    </message>
    <message>
        <source>unexpected argument &quot;%1&quot;</source>
        <translation>多余的参数“%1”</translation>
    </message>
</context>
<context>
    <name>AttachTarget</name>
    <message>
        <source>&quot;%1&quot; is not a gateway address: give http://HOST:PORT or https://HOST:PORT</source>
        <translation>“%1”不是网关地址：请给出 http://HOST:PORT 或 https://HOST:PORT</translation>
    </message>
    <message>
        <source>&quot;%1&quot;: give only the scheme, host and port of the gateway&apos;s HTTP API</source>
        <translation>“%1”：只需给出网关 HTTP 接口的协议、主机和端口</translation>
    </message>
    <message>
        <source>cannot read the API key file &quot;%1&quot;: %2</source>
        <translation>无法读取 API 密钥文件“%1”：%2</translation>
    </message>
    <message>
        <source>the API key file &quot;%1&quot; is too large to hold a key</source>
        <translation>API 密钥文件“%1”过大，不可能只存放一个密钥</translation>
    </message>
    <message>
        <source>the API key file &quot;%1&quot; must hold one line of printable ASCII without spaces</source>
        <translation>API 密钥文件“%1”必须只包含一行不含空格的可打印 ASCII 字符</translation>
    </message>
    <message>
        <source>cannot read the CA file &quot;%1&quot;: %2</source>
        <translation>无法读取 CA 文件“%1”：%2</translation>
    </message>
    <message>
        <source>the CA file &quot;%1&quot; holds no certificate (PEM or DER)</source>
        <translation>CA 文件“%1”中没有证书（PEM 或 DER）</translation>
    </message>
</context>
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
    <message>
        <source>; presence withdrawn until it is back</source>
        <translation>；在连接恢复前已撤下本节点的在线状态</translation>
    </message>
    <message>
        <source>Redis answers slower than pushes come in; pushes that need it answer fail until it catches up (--cluster-max-in-flight)</source>
        <translation>Redis 的应答跟不上推送的速度；在其赶上之前，需要经过 Redis 的推送都回复 fail（--cluster-max-in-flight）</translation>
    </message>
</context>
<context>
    <name>ConfigLoader</name>
    <message>
        <source>file</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>count</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>language</source>
        <translation>语言</translation>
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
        <source>expected the name of a file that holds the API key</source>
        <translation>应为存放 API 密钥的文件名</translation>
    </message>
    <message>
        <source>expected a port number from 0 to 65535, or -1 for none</source>
        <translation>应为 0 到 65535 之间的端口号，或 -1 表示不开启</translation>
    </message>
    <message>
        <source>subnets</source>
        <translation>子网</translation>
    </message>
    <message>
        <source>kind</source>
        <translation>类型</translation>
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
        <translation>--tls-cert 与 --tls-key 必须同时使用</translation>
    </message>
    <message>
        <source>url</source>
        <translation>网址</translation>
    </message>
    <message>
        <source>id</source>
        <translation>标识</translation>
    </message>
    <message>
        <source>expected 1 to 64 of A-Z a-z 0-9 _ . -</source>
        <translation>应为 1 到 64 个 A-Z a-z 0-9 _ . - 字符</translation>
    </message>
    <message>
        <source>expected 0 (off) or a duration from 1s to 10 days, such as 3600 or 30m</source>
        <translation>应为 0（关闭）或 1 秒到 10 天之间的时长，例如 3600 或 30m</translation>
    </message>
    <message>
        <source>--auth-secret-file and --auth-public-key exclude each other</source>
        <translation>--auth-secret-file 与 --auth-public-key 不能同时使用</translation>
    </message>
    <message>
        <source>--auth-audience, --auth-issuer and --auth-max-age need --auth-secret-file or --auth-public-key</source>
        <translation>--auth-audience、--auth-issuer 和 --auth-max-age 需要配合 --auth-secret-file 或 --auth-public-key 使用</translation>
    </message>
    <message>
        <source>--redis-password-file needs --redis</source>
        <translation>--redis-password-file 需要配合 --redis 使用</translation>
    </message>
    <message>
        <source>--redis: %1</source>
        <translation>--redis：%1</translation>
    </message>
    <message>
        <source>--proxy-protocol needs --trusted-proxies: the proxies that send the header</source>
        <translation>--proxy-protocol 需要配合 --trusted-proxies 使用，用以指定发送该头部的代理</translation>
    </message>
    <message>
        <source>%1.</source>
        <translation>%1。</translation>
    </message>
    <message>
        <source>Print the options as a Markdown table with their defaults, and exit.</source>
        <translation>以 Markdown 表格输出所有选项及其默认值，然后退出。</translation>
    </message>
    <message>
        <source>Print an INI file with every option, commented out, with its default (options given with it are written set), and exit.</source>
        <translation>输出一个列出所有选项的 INI 文件（各选项连同默认值以注释形式写出，与它一同给出的选项则写为已设置），然后退出。</translation>
    </message>
    <message>
        <source>Print the Prometheus metrics of /metrics as a Markdown table, and exit.</source>
        <translation>以 Markdown 表格输出 /metrics 提供的 Prometheus 指标，然后退出。</translation>
    </message>
    <message>
        <source># Options</source>
        <translation># 选项</translation>
    </message>
    <message>
        <source>*Generated by `pushconsole --help-markdown` from the option table (core/server/OptionTable.cpp); `cmake --build build --target update_docs` writes it again.*</source>
        <translation>*由 `pushconsole --help-markdown` 根据选项表（core/server/OptionTable.cpp）生成；运行 `cmake --build build --target update_docs` 可重新生成。*</translation>
    </message>
    <message>
        <source>Every option can also be set in an INI file given with `--config FILE`; precedence is *defaults &lt; INI file &lt; command line*. Keys are the long option names, at the top or in a `[pushconsole]` section, and an unknown key is an error (a typo never silently falls back to a default). [`resources/pushconsole.example.ini`](../resources/pushconsole.example.ini) (`pushconsole --help-ini`) lists every key with its default.</source>
        <translation>每个选项也都可以写在用 `--config FILE` 指定的 INI 文件中；优先级为 *默认值 &lt; INI 文件 &lt; 命令行*。键名即长选项名，可写在文件开头或 `[pushconsole]` 节中；未知的键会报错（拼写错误绝不会悄悄退回默认值）。[`resources/pushconsole.example.ini`](../resources/pushconsole.example.ini)（`pushconsole --help-ini`）列出了所有键及其默认值。</translation>
    </message>
    <message>
        <source>Durations take `ms`, `s` (the default unit) or `m`; sizes take `K`, `M`, `G` (powers of 1024). A bad value stops the program with a message that names the option and what it expects, and exit status 2.</source>
        <translation>时长可用 `ms`、`s`（默认单位）或 `m` 为单位；大小可用 `K`、`M`、`G` 为单位（1024 的幂）。值无效时程序会停止，给出一条指明该选项及其期望值的消息，退出状态为 2。</translation>
    </message>
    <message>
        <source>*reload*: **yes** when a reload (SIGHUP, `systemctl reload pushconsole`) applies a changed value to the running gateway (new connections and every later decision; connected clients stay); otherwise it needs a restart, and a reload that finds it changed says so in its log line.</source>
        <translation>*重新加载*：为 **是** 表示重新加载（SIGHUP，`systemctl reload pushconsole`）会把改动后的值应用到正在运行的网关（作用于新连接和此后的每次判断；已连接的客户端保持连接）；否则需要重启，重新加载时若发现该值有改动，会在其日志行中说明。</translation>
    </message>
    <message>
        <source>| option | default | reload | meaning |</source>
        <translation>| 选项 | 默认值 | 重新加载 | 说明 |</translation>
    </message>
    <message>
        <source>**yes**</source>
        <translation>**是**</translation>
    </message>
    <message>
        <source>restart</source>
        <translation>需重启</translation>
    </message>
    <message>
        <source>Besides: %1 print what they say and exit.</source>
        <translation>此外：%1 输出其名称所示的内容，然后退出。</translation>
    </message>
    <message>
        <source>Push Console settings. Copy this file, change what you need and start
  pushconsole --config /etc/pushconsole.ini
Precedence: built-in defaults &lt; this file &lt; the command line.
Every key is the long name of a command-line option (see pushconsole --help);
keys may stand at the top or in a [pushconsole] section. An unknown key is
an error, so a typo cannot silently fall back to a default.
Below: every option, commented out, with its default (pushconsole --help-ini).</source>
        <translation>推送控制台设置。复制本文件，按需修改后用以下命令启动：
  pushconsole --config /etc/pushconsole.ini
优先级：内置默认值 &lt; 本文件 &lt; 命令行。
每个键都是某个命令行选项的长名称（见 pushconsole --help）；
键可以写在文件开头或 [pushconsole] 节中。未知的键会报错，
因此拼写错误不会悄悄退回默认值。
下面列出所有选项及其默认值，均已注释掉（pushconsole --help-ini）。</translation>
    </message>
    <message>
        <source>Address for WebSocket clients; :: for every interface, IPv4 and IPv6</source>
        <translation>WebSocket 客户端的监听地址；:: 表示所有网络接口，含 IPv4 和 IPv6</translation>
    </message>
    <message>
        <source>WebSocket port, 0 for any free port</source>
        <translation>WebSocket 端口，0 表示任意空闲端口</translation>
    </message>
    <message>
        <source>Address of the inner push port</source>
        <translation>内部推送端口的监听地址</translation>
    </message>
    <message>
        <source>Keep it on loopback: anyone who can reach it can push to any uid.</source>
        <translation>请保持为本机回环地址：能访问它的人可以向任何 uid 推送。</translation>
    </message>
    <message>
        <source>Inner push port, 0 for any free port</source>
        <translation>内部推送端口，0 表示任意空闲端口</translation>
    </message>
    <message>
        <source>Address of the HTTP API</source>
        <translation>HTTP 接口的监听地址</translation>
    </message>
    <message>
        <source>Anyone who reaches /api/ can push to and disconnect any uid: keep it on loopback, or set an API key (--http-api-key-file).</source>
        <translation>能访问 /api/ 的人可以向任何 uid 推送或将其断开：请保持为本机回环地址，或设置 API 密钥（--http-api-key-file）。</translation>
    </message>
    <message>
        <source>HTTP API port, 0 for any free port, -1 for no HTTP API</source>
        <translation>HTTP 接口端口，0 表示任意空闲端口，-1 表示不开启 HTTP 接口</translation>
    </message>
    <message>
        <source>Drop a client idle longer than this; units ms, s, m</source>
        <translation>客户端空闲超过此时长即断开；单位 ms、s、m</translation>
    </message>
    <message>
        <source>Every frame a client sends (text, binary, pong) renews it; the connection is then aborted, never closed gracefully.</source>
        <translation>客户端发送的每一帧（文本、二进制、pong）都会重新计时；超时后连接被直接中断，不会正常关闭。</translation>
    </message>
    <message>
        <source>Ping every client this often, 0 to never ping</source>
        <translation>向每个客户端发送 ping 的间隔，0 表示从不发送</translation>
    </message>
    <message>
        <source>A browser that only answers pings then stays online; 0 is the seed&apos;s behaviour (silent for the heartbeat: dropped).</source>
        <translation>这样只回应 ping 的浏览器也能保持在线；0 即原文方案的行为（在心跳时长内一直静默即被断开）。</translation>
    </message>
    <message>
        <source>Close a client that has not sent its uid by then</source>
        <translation>到时仍未发送 uid 的客户端将被关闭</translation>
    </message>
    <message>
        <source>the heartbeat</source>
        <translation>与心跳时长相同</translation>
    </message>
    <message>
        <source>On SIGTERM, time clients get to receive what was queued for them before they are dropped; 0 to drop them at once</source>
        <translation>收到 SIGTERM 时，客户端在被断开前接收已排队数据的时间；0 表示立即断开</translation>
    </message>
    <message>
        <source>Whoever is left then is reset, and what it did not get is logged and counted (pushconsole_dropped_bytes_total with reason shutdown).</source>
        <translation>届时仍未断开的连接会被重置，未送达的数据会记入日志，并计入 pushconsole_dropped_bytes_total 指标（reason 为 shutdown）。</translation>
    </message>
    <message>
        <source>Connections one uid may hold; the oldest is closed, 0 for no cap</source>
        <translation>每个 uid 可保持的连接数，超出时关闭最早的连接；0 表示不限</translation>
    </message>
    <message>
        <source>Without signed tokens anyone can claim a uid, and so push its owner out this way; with tokens only a connection of the same token is closed (see --max-conns-per-token).</source>
        <translation>未启用签名令牌时，任何人都能冒称某个 uid，并借此把真正的用户挤下线；启用令牌后，只会关闭同一令牌的连接（见 --max-conns-per-token）。</translation>
    </message>
    <message>
        <source>Longest push request line; units K, M, G</source>
        <translation>推送请求行的最大长度；单位 K、M、G</translation>
    </message>
    <message>
        <source>A longer line on the push port gets &quot;error: line too long&quot; and the connection is closed; a longer HTTP push gets 413.</source>
        <translation>推送端口上更长的行会收到 &quot;error: line too long&quot;，随后连接被关闭；更长的 HTTP 推送会收到 413。</translation>
    </message>
    <message>
        <source>Largest WebSocket message a client may send</source>
        <translation>客户端可发送的最大 WebSocket 消息</translation>
    </message>
    <message>
        <source>Largest WebSocket frame a client may send</source>
        <translation>客户端可发送的最大 WebSocket 帧</translation>
    </message>
    <message>
        <source>Drop a client whose unsent output exceeds this</source>
        <translation>待发送数据超过此值的客户端将被断开</translation>
    </message>
    <message>
        <source>Counted in real memory: the queued bytes plus their bookkeeping.</source>
        <translation>按实际占用的内存计算：排队的字节加上其管理开销。</translation>
    </message>
    <message>
        <source>WebSocket connections in all, 0 for the open-file limit less 512</source>
        <translation>WebSocket 连接总数，0 表示打开文件数上限减去 512</translation>
    </message>
    <message>
        <source>The 512 descriptors are kept for backends and files. Connections refused by a limit are reset at once and logged (at most one line a second during a flood).</source>
        <translation>这 512 个描述符留给后端和文件使用。因超出上限而被拒绝的连接会立即重置并记入日志（连接洪泛期间每秒最多记一行）。</translation>
    </message>
    <message>
        <source>WebSocket connections from one address</source>
        <translation>来自同一地址的 WebSocket 连接数</translation>
    </message>
    <message>
        <source>Generous by default: many users may share a NAT address.</source>
        <translation>默认值较宽松：许多用户可能共用一个 NAT 地址。</translation>
    </message>
    <message>
        <source>Sources --max-conns-per-ip does not apply to, e.g. a proxy; &quot;none&quot; for none</source>
        <translation>不受 --max-conns-per-ip 限制的来源，例如代理；&quot;none&quot; 表示没有</translation>
    </message>
    <message>
        <source>A reverse proxy on this machine that does not name its clients connects every user from loopback.</source>
        <translation>本机上的反向代理若不告知客户端地址，所有用户看起来都来自本机回环地址。</translation>
    </message>
    <message>
        <source>Connections that have not sent their uid yet</source>
        <translation>尚未发送 uid 的连接数</translation>
    </message>
    <message>
        <source>Past it the oldest connection without a uid is dropped to admit the new one (a connection flood).</source>
        <translation>超出后会断开尚未发送 uid 的最早连接，以接纳新连接（应对连接洪泛）。</translation>
    </message>
    <message>
        <source>Connections on the push port</source>
        <translation>推送端口上的连接数</translation>
    </message>
    <message>
        <source>Unread replies (or replies waiting for Redis) before a push connection is no longer read</source>
        <translation>推送连接未读取的回复（或等待 Redis 的回复）达到此数量后，暂停读取该连接</translation>
    </message>
    <message>
        <source>Close a push connection that sent nothing (and waits for no reply) this long, 0 to never</source>
        <translation>推送连接在此时长内未发送任何内容（且没有等待中的回复）即关闭，0 表示从不关闭</translation>
    </message>
    <message>
        <source>Close a push connection whose line stays unfinished this long (a slowloris), 0 to never</source>
        <translation>推送连接的一行在此时长内仍未写完（slowloris 攻击）即关闭，0 表示从不关闭</translation>
    </message>
    <message>
        <source>Besides loopback, admit these sources to the push port, e.g. 10.0.0.0/8,192.168.1.5</source>
        <translation>除本机回环外，允许这些来源访问推送端口，例如 10.0.0.0/8,192.168.1.5</translation>
    </message>
    <message>
        <source>Your application servers, when --text-bind is not 127.0.0.1; everyone else is refused at accept.</source>
        <translation>当 --text-bind 不是 127.0.0.1 时，在此填写你的应用服务器；其他来源在接受连接时即被拒绝。</translation>
    </message>
    <message>
        <source>loopback only</source>
        <translation>仅本机回环</translation>
    </message>
    <message>
        <source>Require &quot;Authorization: Bearer KEY&quot; on /api/* and /metrics; KEY is read from this file</source>
        <translation>访问 /api/* 和 /metrics 时要求 &quot;Authorization: Bearer KEY&quot;；KEY 从此文件读取</translation>
    </message>
    <message>
        <source>Read at start: one line, printable ASCII, no spaces. /healthz stays open (it says only &quot;ok&quot; without the key). A relative name is relative to the working directory.</source>
        <translation>启动时读取：一行，可打印 ASCII 字符，不含空格。/healthz 保持开放（不带密钥时只返回 &quot;ok&quot;）。相对路径以工作目录为基准。</translation>
    </message>
    <message>
        <source>no key</source>
        <translation>无密钥</translation>
    </message>
    <message>
        <source>names</source>
        <translation>主机名</translation>
    </message>
    <message>
        <source>Host names the HTTP API answers to besides IP addresses and localhost, e.g. api.example.com; &quot;*&quot; for any</source>
        <translation>除 IP 地址和 localhost 外，HTTP 接口还响应的主机名，例如 api.example.com；&quot;*&quot; 表示任意主机名</translation>
    </message>
    <message>
        <source>Against DNS rebinding; e.g. the public name a reverse proxy passes on.</source>
        <translation>用于防范 DNS 重绑定攻击；例如填写反向代理转发过来的公开域名。</translation>
    </message>
    <message>
        <source>origins</source>
        <translation>源</translation>
    </message>
    <message>
        <source>Web pages of these origins may call the HTTP API, e.g. https://admin.example.com</source>
        <translation>允许这些源的网页调用 HTTP 接口，源的写法如 https://admin.example.com 这样</translation>
    </message>
    <message>
        <source>They get CORS answers. No other web page may use the API: a request with an Origin header is refused unless its origin is listed.</source>
        <translation>这些网页会得到 CORS 响应。其他网页都不能使用该接口：带 Origin 头的请求，除非其源在列表中，否则一律拒绝。</translation>
    </message>
    <message>
        <source>none; any request with an Origin is refused</source>
        <translation>无；任何带 Origin 头的请求都会被拒绝</translation>
    </message>
    <message>
        <source>Serve /metrics without the API key</source>
        <translation>无需 API 密钥即可访问 /metrics</translation>
    </message>
    <message>
        <source>For a scraper that cannot send it.</source>
        <translation>适用于无法发送密钥的采集程序。</translation>
    </message>
    <message>
        <source>Serve the browser test page at / on the HTTP port</source>
        <translation>在 HTTP 端口的 / 路径上提供浏览器测试页</translation>
    </message>
    <message>
        <source>Connections on the HTTP port; more are reset at accept</source>
        <translation>HTTP 端口上的连接数；超出的连接在接受时即被重置</translation>
    </message>
    <message>
        <source>Unsent HTTP answers before a client is no longer read</source>
        <translation>未发送的 HTTP 响应达到此大小后，暂停读取该客户端</translation>
    </message>
    <message>
        <source>HTTP requests read but not answered before a client is no longer read</source>
        <translation>已读取但未响应的 HTTP 请求达到此数量后，暂停读取该客户端</translation>
    </message>
    <message>
        <source>Time from the first byte of an HTTP request to its last; then 408 and closed</source>
        <translation>HTTP 请求从第一个字节到最后一个字节的时限；超时则返回 408 并关闭连接</translation>
    </message>
    <message>
        <source>Close an HTTP connection idle between requests, or not reading its answers, this long</source>
        <translation>HTTP 连接在两次请求之间空闲或不读取响应达到此时长即关闭</translation>
    </message>
    <message>
        <source>First message must be an HS256 token signed with this secret (uid = sub)</source>
        <translation>第一条消息必须是用此密钥签名的 HS256 令牌，uid = sub</translation>
    </message>
    <message>
        <source>plain uids</source>
        <translation>不使用令牌</translation>
    </message>
    <message>
        <source>First message must be an RS256/ES256 token verified with this PEM key</source>
        <translation>第一条消息必须是能用此 PEM 公钥验证的 RS256/ES256 令牌</translation>
    </message>
    <message>
        <source>Excludes --auth-secret-file.</source>
        <translation>不能与 --auth-secret-file 同时使用。</translation>
    </message>
    <message>
        <source>Clock difference allowed for exp, nbf and iat</source>
        <translation>校验 exp、nbf 和 iat 时允许的时钟偏差</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>Tokens must name this audience in aud, a string or an array holding it</source>
        <translation>令牌的 aud 必须指明此受众：aud 为该字符串，或为包含它的数组</translation>
    </message>
    <message>
        <source>not checked</source>
        <translation>不检查</translation>
    </message>
    <message>
        <source>Tokens must have this iss</source>
        <translation>令牌的 iss 必须为此值</translation>
    </message>
    <message>
        <source>Longest token lifetime: iat required, exp - iat at most this, 0 for no limit</source>
        <translation>令牌的最长有效期：必须带 iat，且 exp - iat 不超过此值；0 表示不限</translation>
    </message>
    <message>
        <source>A token&apos;s iat may not be in the future.</source>
        <translation>令牌的 iat 不能晚于当前时间。</translation>
    </message>
    <message>
        <source>With tokens: connections bound with one token (jti); the oldest of that token is closed, never another token&apos;s, 0 for no cap</source>
        <translation>启用令牌时：用同一令牌（jti）绑定的连接数；超出时关闭该令牌最早的连接，绝不关闭其他令牌的连接；0 表示不限</translation>
    </message>
    <message>
        <source>A token without a jti is known by itself. When the uid is full (--max-conns-per-uid) and the new token has none to give up, the new connection is refused (4001).</source>
        <translation>没有 jti 的令牌以令牌本身来识别。当该 uid 的连接已满（--max-conns-per-uid）而新令牌又没有可让出的连接时，新连接会被拒绝（4001）。</translation>
    </message>
    <message>
        <source>PEM private key for wss://; needs --tls-cert</source>
        <translation>用于 wss:// 的 PEM 私钥；需要同时指定 --tls-cert</translation>
    </message>
    <message>
        <source>Reverse proxies whose X-Forwarded-For (and PROXY header) names the client, e.g. 127.0.0.1,10.0.0.0/8</source>
        <translation>受信任的反向代理，采用它们在 X-Forwarded-For（及 PROXY 头）中给出的客户端地址，例如 127.0.0.1,10.0.0.0/8</translation>
    </message>
    <message>
        <source>The right-most address that is not itself one of these is the client. The per-address limit, the log and the console then see the client instead of the proxy; anyone else&apos;s X-Forwarded-For is ignored.</source>
        <translation>最右边一个不属于这些代理的地址即为客户端地址。这样按地址的连接数限制、日志和控制台看到的就是客户端而不是代理；其他来源的 X-Forwarded-For 一律忽略。</translation>
    </message>
    <message>
        <source>The WebSocket port expects a PROXY protocol v1/v2 header from --trusted-proxies and refuses it from others</source>
        <translation>WebSocket 端口要求来自 --trusted-proxies 的连接带有 PROXY 协议 v1/v2 头，并拒绝其他来源发送的此类头</translation>
    </message>
    <message>
        <source>The header must come within 5 s. nginx: &quot;proxy_protocol on;&quot; in a stream server; HAProxy: &quot;send-proxy&quot; or &quot;send-proxy-v2&quot; on the server line.</source>
        <translation>该头必须在 5 s 内到达。nginx：在 stream 的 server 块中写 &quot;proxy_protocol on;&quot;；HAProxy：在 server 行加上 &quot;send-proxy&quot; 或 &quot;send-proxy-v2&quot;。</translation>
    </message>
    <message>
        <source>Cluster mode: share presence and pushes with other gateways through this Redis, redis://[[user]:password@]host[:port][/db]</source>
        <translation>集群模式：通过 redis://[[user]:password@]host[:port][/db] 形式的 Redis 网址与其他网关共享在线状态和推送</translation>
    </message>
    <message>
        <source>a single node</source>
        <translation>单节点</translation>
    </message>
    <message>
        <source>This gateway&apos;s name in the cluster, 1-64 of A-Z a-z 0-9 _ . -</source>
        <translation>本网关在集群中的名称，由 1 到 64 个 A-Z a-z 0-9 _ . - 字符组成</translation>
    </message>
    <message>
        <source>hostname-pid</source>
        <translation>主机名-进程号</translation>
    </message>
    <message>
        <source>A node that stops renewing its presence is dropped after this</source>
        <translation>节点停止续期在线状态后，经过此时长即被移除</translation>
    </message>
    <message>
        <source>A node renews it every third of this; one that crashed or was cut off is dropped by the others.</source>
        <translation>节点每隔此时长的三分之一续期一次；崩溃或失联的节点会被其他节点移除。</translation>
    </message>
    <message>
        <source>Connect and command timeout for Redis</source>
        <translation>Redis 的连接超时和命令超时</translation>
    </message>
    <message>
        <source>Log in to Redis with the password in this file (read at start), not one in the URL</source>
        <translation>使用此文件中的密码（启动时读取）登录 Redis，而不是网址中的密码</translation>
    </message>
    <message>
        <source>White space around it is trimmed. It keeps the password off the command line, where ps shows it; the URL then names at most a user: redis://push@10.0.0.2:6379/0.</source>
        <translation>密码前后的空白会被去除。这样密码就不会出现在命令行中（ps 能看到命令行）；此时网址中最多只写用户名，形如 redis://push@10.0.0.2:6379/0 即可。</translation>
    </message>
    <message>
        <source>Pushes awaiting Redis (publishes, offline stores), in bytes; past it they answer fail</source>
        <translation>等待 Redis 处理的推送（发布、离线存储）的字节数上限；超出后推送回复 fail</translation>
    </message>
    <message>
        <source>Counted in the bytes they hold, so a Redis slower than the pushes cannot make the process grow.</source>
        <translation>按推送占用的字节计算，因此即使 Redis 跟不上推送速度，进程也不会因此不断膨胀。</translation>
    </message>
    <message>
        <source>Keep pushes to a uid online nowhere this long (seconds, or 30m) and deliver them when it binds; the reply is &quot;queued&quot;</source>
        <translation>推送给任何节点都不在线的 uid 时，保存此时长（秒数，或如 30m），在其绑定时投递；回复为 &quot;queued&quot;</translation>
    </message>
    <message>
        <source>Up to 10 days. Off: such pushes get &quot;fail&quot;.</source>
        <translation>最长 10 天。关闭时此类推送回复 &quot;fail&quot;。</translation>
    </message>
    <message>
        <source>Stored messages per uid; the oldest is dropped</source>
        <translation>每个 uid 保存的消息数上限；超出时丢弃最旧的</translation>
    </message>
    <message>
        <source>Stored messages in all; the oldest is dropped</source>
        <translation>保存的消息总数上限；超出时丢弃最旧的</translation>
    </message>
    <message>
        <source>Stored payload bytes per uid; the oldest is dropped, a larger push is not stored</source>
        <translation>每个 uid 保存的消息内容字节数上限；超出时丢弃最旧的，单条超过此值的推送不保存</translation>
    </message>
    <message>
        <source>Stored payload bytes in all; the oldest is dropped</source>
        <translation>保存的消息内容总字节数上限；超出时丢弃最旧的</translation>
    </message>
    <message>
        <source>Drops are counted and logged. Redis keeps its store in memory.</source>
        <translation>丢弃会被计数并记入日志。使用 Redis 时，离线存储保存在 Redis 的内存中。</translation>
    </message>
    <message>
        <source>SQLite file of the offline store on a single node</source>
        <translation>单节点时离线存储所用的 SQLite 文件</translation>
    </message>
    <message>
        <source>The application data folder is ~/.local/share/pushconsole/pushconsole for most users. In cluster mode the messages are kept in Redis instead.</source>
        <translation>对多数用户而言，应用数据目录是 ~/.local/share/pushconsole/pushconsole。集群模式下消息改为保存在 Redis 中。</translation>
    </message>
    <message>
        <source>offline.sqlite in the application data folder</source>
        <translation>应用数据目录中的 offline.sqlite</translation>
    </message>
    <message>
        <source>debug (every push and message), info, warning or error</source>
        <translation>debug（记录每条推送和消息）、info、warning 或 error</translation>
    </message>
    <message>
        <source>Events kept in memory for the console</source>
        <translation>为控制台保留在内存中的事件数</translation>
    </message>
    <message>
        <source>Read settings from this INI file (command line wins)</source>
        <translation>从此 INI 文件读取设置（命令行优先）</translation>
    </message>
    <message>
        <source>Run as a headless server, logging events to stdout</source>
        <translation>以无界面服务器方式运行，事件日志输出到 stdout</translation>
    </message>
    <message>
        <source>Also chosen when there is no display.</source>
        <translation>没有显示器时也会自动采用此方式。</translation>
    </message>
    <message>
        <source>Language of the console and messages: zh_CN or en</source>
        <translation>控制台和消息的语言：zh_CN 或 en</translation>
    </message>
    <message>
        <source>the system&apos;s</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>epoll (cost independent of idle clients) or default (Qt&apos;s)</source>
        <translation>epoll（开销与空闲客户端数量无关），或 Qt 自带的 default</translation>
    </message>
    <message>
        <source>The console&apos;s window always uses Qt&apos;s own.</source>
        <translation>控制台窗口始终使用 Qt 自带的事件循环。</translation>
    </message>
    <message>
        <source>epoll headless, default with a window</source>
        <translation>无界面时为 epoll，有窗口时为 default</translation>
    </message>
    <message>
        <source>Ports</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Clients</source>
        <translation>客户端</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>限制</translation>
    </message>
    <message>
        <source>Push port</source>
        <translation>推送端口</translation>
    </message>
    <message>
        <source>HTTP API</source>
        <translation>HTTP 接口</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>令牌</translation>
    </message>
    <message>
        <source>TLS</source>
        <translation>TLS</translation>
    </message>
    <message>
        <source>Proxies</source>
        <translation>代理</translation>
    </message>
    <message>
        <source>Cluster</source>
        <translation>集群</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线投递</translation>
    </message>
    <message>
        <source>Logging</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Console</source>
        <translation>控制台</translation>
    </message>
    <message>
        <source>Where browsers connect (WebSocket), where backends push (the inner push port) and the HTTP API. With port 0 the system picks a free port; the first line of the log says which.</source>
        <translation>浏览器连接的端口（WebSocket）、后端推送的端口（内部推送端口）以及 HTTP 接口。端口为 0 时由系统选择空闲端口，日志第一行会给出实际端口。</translation>
    </message>
    <message>
        <source>How long WebSocket clients may stay silent, and how they are let go.</source>
        <translation>WebSocket 客户端可以保持静默多久，以及如何断开它们。</translation>
    </message>
    <message>
        <source>What one client or one address may take. Sizes take K, M, G (powers of 1024).</source>
        <translation>单个客户端或单个地址可占用的资源。大小可用 K、M、G 为单位（1024 的幂）。</translation>
    </message>
    <message>
        <source>The inner port backends write JSON lines to. Anyone who can reach it can push to any uid: keep it on loopback.</source>
        <translation>后端写入 JSON 行的内部端口。能访问它的人可以向任何 uid 推送：请保持为本机回环地址。</translation>
    </message>
    <message>
        <source>POST /api/push, who is online, disconnects, /healthz and /metrics (Prometheus).</source>
        <translation>POST /api/push、在线查询、断开连接、/healthz 和 /metrics（Prometheus）。</translation>
    </message>
    <message>
        <source>Signed uid tokens: the first message must be a JWT whose &quot;sub&quot; is the uid. One of an HS256 secret file or an RS256/ES256 public key.</source>
        <translation>签名 uid 令牌：第一条消息必须是 &quot;sub&quot; 为 uid 的 JWT。使用 HS256 密钥文件或 RS256/ES256 公钥，二者选一。</translation>
    </message>
    <message>
        <source>wss:// with a PEM certificate chain and its private key. TLS 1.2 and 1.3 only; TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305 only (Mozilla&apos;s &quot;intermediate&quot; configuration).</source>
        <translation>wss:// 使用 PEM 证书链及其私钥。仅支持 TLS 1.2 和 1.3；TLS 1.2 仅限 ECDHE 搭配 AES-GCM 或 ChaCha20-Poly1305（即 Mozilla 的 &quot;intermediate&quot; 配置）。</translation>
    </message>
    <message>
        <source>Reverse proxies (nginx, HAProxy, a load balancer) in front of the WebSocket port.</source>
        <translation>位于 WebSocket 端口前面的反向代理（nginx、HAProxy、负载均衡器）。</translation>
    </message>
    <message>
        <source>Gateways that share one Redis route pushes to each other&apos;s clients. Off without --redis.</source>
        <translation>共用同一个 Redis 的网关会把推送路由到彼此的客户端。未指定 --redis 时不启用。</translation>
    </message>
    <message>
        <source>Offline delivery: pushes to a uid online nowhere wait for it. Off while --offline-ttl is 0.</source>
        <translation>离线投递：推送给任何节点都不在线的 uid 时，消息会等待其上线。--offline-ttl 为 0 时不启用。</translation>
    </message>
    <message>
        <source>Events go to stdout headless (TIME LEVEL EVENT key=value) and to the console&apos;s log.</source>
        <translation>无界面运行时事件输出到 stdout（TIME LEVEL EVENT key=value），并进入控制台的日志。</translation>
    </message>
    <message>
        <source>How the program runs: with its window, or headless.</source>
        <translation>程序的运行方式：带窗口，或无界面。</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>%1 (default: %2).</source>
        <translation>%1（默认：%2）。</translation>
    </message>
    <message>
        <source>%1 (default %2).</source>
        <translation>%1（默认：%2）。</translation>
    </message>
    <message>
        <source>on</source>
        <translation>开启</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>expected a duration from %1 to %2</source>
        <translation>应为 %1 到 %2 之间的时长</translation>
    </message>
    <message>
        <source>expected a size from %1 to %2, such as 64K, 1M or 2G</source>
        <translation>应为 %1 到 %2 之间的大小，例如 64K、1M 或 2G</translation>
    </message>
    <message>
        <source>expected origins such as https://admin.example.com (not * or null)</source>
        <translation>应为源，例如 https://admin.example.com（不能是 * 或 null）</translation>
    </message>
    <message>
        <source>expected origins such as https://admin.example.com:8443</source>
        <translation>应为源，例如 https://admin.example.com:8443</translation>
    </message>
    <message>
        <source>expected host names such as api.example.com, or *</source>
        <translation>应为主机名（例如 api.example.com）或 *</translation>
    </message>
    <message>
        <source>expected 1 to 256 characters</source>
        <translation>应为 1 到 256 个字符</translation>
    </message>
    <message>
        <source>expected printable characters only</source>
        <translation>应只包含可打印字符</translation>
    </message>
    <message>
        <source>Attached consoles (admin streams, GET /api/events) at once; one more gets 503</source>
        <translation>可同时附加的控制台数（管理流，GET /api/events）；再多一个即返回 503</translation>
    </message>
    <message>
        <source>0 refuses every admin stream.</source>
        <translation>0 表示拒绝所有管理流。</translation>
    </message>
    <message>
        <source>Unsent output of one admin stream; past it events are only counted as skipped</source>
        <translation>单个管理流的待发送数据上限；超出后事件只计为已跳过</translation>
    </message>
    <message>
        <source>Counted in real bytes, like a WebSocket client&apos;s; presence changes wait merged per uid, and a stream too far behind gets a fresh presence snapshot.</source>
        <translation>与 WebSocket 客户端一样按实际字节计算；在线状态变化按 uid 合并后等待发送，落后太多的流会收到一份新的在线状态快照。</translation>
    </message>
    <message>
        <source>Events sent to one admin stream per second; more are counted as skipped, by type</source>
        <translation>每秒发送给单个管理流的事件数；超出的按类型计为已跳过</translation>
    </message>
    <message>
        <source>--http-tls needs --tls-cert and --tls-key</source>
        <translation>--http-tls 需要同时指定 --tls-cert 和 --tls-key</translation>
    </message>
    <message>
        <source>Serve the HTTP API (and the admin stream) over TLS with --tls-cert and --tls-key</source>
        <translation>通过 TLS（使用 --tls-cert 和 --tls-key）提供 HTTP API（及管理流）</translation>
    </message>
    <message>
        <source>The certificate of the WebSocket port, for one name and one renewal; a reload reads it again for both (new connections get the new one). A plain-HTTP client is dropped at the handshake. Changing this option needs a restart.</source>
        <translation>与 WebSocket 端口共用同一证书：一个域名，一次续期；重新加载时两个端口都会重新读取证书（新连接获得新证书）。明文 HTTP 客户端会在握手时被断开。更改此选项需要重启。</translation>
    </message>
    <message>
        <source>PEM certificate (chain) for wss:// (and https with --http-tls); needs --tls-key</source>
        <translation>用于 wss://（以及启用 --http-tls 时的 https）的 PEM 证书（链）；需要同时指定 --tls-key</translation>
    </message>
    <message>
        <source>Threads for the WebSocket sockets; 1 runs everything on one event loop</source>
        <translation>WebSocket 套接字使用的线程数；1 表示所有工作在一个事件循环中完成</translation>
    </message>
    <message>
        <source>With N &gt; 1 the sockets&apos; reads, writes and TLS run on N - 1 socket threads and the uid registry, the router and every limit stay on the main thread. 0 uses the cores available, or the PUSHCONSOLE_THREADS environment variable when set.</source>
        <translation>N &gt; 1 时，套接字的读、写和 TLS 在 N - 1 个套接字线程上运行，uid 注册表、路由器和所有限制仍在主线程上。0 表示使用可用的 CPU 核数；若设置了环境变量 PUSHCONSOLE_THREADS，则使用其值。</translation>
    </message>
    <message>
        <source>the cores available</source>
        <translation>可用的 CPU 核数</translation>
    </message>
</context>
<context>
    <name>ConnectionsModel</name>
    <message>
        <source>Connected for %1</source>
        <translation>已连接 %1</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>连接</translation>
    </message>
    <message>
        <source>Peer</source>
        <translation>对端地址</translation>
    </message>
    <message>
        <source>Connected since</source>
        <translation>连接时间</translation>
    </message>
    <message>
        <source>Last activity</source>
        <translation>最近活动</translation>
    </message>
    <message>
        <source>In</source>
        <translation>收</translation>
    </message>
    <message>
        <source>Out</source>
        <translation>发</translation>
    </message>
    <message>
        <source>Bytes in</source>
        <translation>接收字节</translation>
    </message>
    <message>
        <source>Bytes out</source>
        <translation>发送字节</translation>
    </message>
</context>
<context>
    <name>EventText</name>
    <message>
        <source>in</source>
        <translation>收</translation>
    </message>
    <message>
        <source>out</source>
        <translation>发</translation>
    </message>
    <message>
        <source>system</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>push port</source>
        <translation>推送端口</translation>
    </message>
    <message>
        <source>console</source>
        <translation>控制台</translation>
    </message>
    <message>
        <source>HTTP API</source>
        <translation>HTTP 接口</translation>
    </message>
    <message>
        <source>cluster</source>
        <translation>集群</translation>
    </message>
    <message>
        <source>Listeners closed; connected clients stay</source>
        <translation>监听已关闭；已连接的客户端保持连接</translation>
    </message>
    <message>
        <source>WebSocket connection %1 opened (path %2)</source>
        <translation>WebSocket 连接 %1 已建立（路径 %2）</translation>
    </message>
    <message>
        <source>Connection %1 bound to uid %2</source>
        <translation>连接 %1 已绑定 uid %2</translation>
    </message>
    <message>
        <source>Connection %1 rejected: %2</source>
        <translation>连接 %1 被拒绝：%2</translation>
    </message>
    <message>
        <source>Connection %1 closed after %2 s: %3</source>
        <translation>连接 %1 在 %2 秒后关闭：%3</translation>
    </message>
    <message>
        <source>ok (delivered: %1)</source>
        <translation>成功（送达 %1）</translation>
    </message>
    <message>
        <source>fail: not online</source>
        <translation>失败：不在线</translation>
    </message>
    <message>
        <source>queued</source>
        <translation>已排队</translation>
    </message>
    <message>
        <source>error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>code %1</source>
        <translation>代码 %1</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>已关闭</translation>
    </message>
    <message>
        <source>client closed</source>
        <translation>客户端关闭</translation>
    </message>
    <message>
        <source>closed by peer</source>
        <translation>对端关闭</translation>
    </message>
    <message>
        <source>disconnected by operator</source>
        <translation>被操作员断开</translation>
    </message>
    <message>
        <source>invalid uid</source>
        <translation>无效的 uid</translation>
    </message>
    <message>
        <source>bind timeout</source>
        <translation>绑定超时</translation>
    </message>
    <message>
        <source>close timeout</source>
        <translation>关闭超时</translation>
    </message>
    <message>
        <source>server shutting down</source>
        <translation>服务器正在关闭</translation>
    </message>
    <message>
        <source>too many connections for this uid</source>
        <translation>该 uid 的连接数过多</translation>
    </message>
    <message>
        <source>message too large</source>
        <translation>消息过大</translation>
    </message>
    <message>
        <source>frame too large</source>
        <translation>帧过大</translation>
    </message>
    <message>
        <source>invalid UTF-8</source>
        <translation>无效的 UTF-8</translation>
    </message>
    <message>
        <source>invalid close frame</source>
        <translation>无效的关闭帧</translation>
    </message>
    <message>
        <source>continuation without a message</source>
        <translation>没有消息的延续帧</translation>
    </message>
    <message>
        <source>new message before the last one ended</source>
        <translation>上一条消息未结束就开始了新消息</translation>
    </message>
    <message>
        <source>write failed</source>
        <translation>写入失败</translation>
    </message>
    <message>
        <source>empty line</source>
        <translation>空行</translation>
    </message>
    <message>
        <source>not UTF-8</source>
        <translation>不是 UTF-8</translation>
    </message>
    <message>
        <source>not a JSON object</source>
        <translation>不是 JSON 对象</translation>
    </message>
    <message>
        <source>missing uid</source>
        <translation>缺少 uid</translation>
    </message>
    <message>
        <source>empty uid list</source>
        <translation>uid 列表为空</translation>
    </message>
    <message>
        <source>too many uids</source>
        <translation>uid 过多</translation>
    </message>
    <message>
        <source>slow consumer: ping could not be queued</source>
        <translation>客户端读取过慢：无法排队发送 ping</translation>
    </message>
    <message>
        <source>out of file descriptors: WebSocket connection refused</source>
        <translation>文件描述符耗尽：已拒绝 WebSocket 连接</translation>
    </message>
    <message>
        <source>out of file descriptors: push connection refused</source>
        <translation>文件描述符耗尽：已拒绝推送连接</translation>
    </message>
    <message>
        <source>client closed: %1</source>
        <translation>客户端关闭：%1</translation>
    </message>
    <message>
        <source>heartbeat timeout (idle %1 s)</source>
        <translation>心跳超时（空闲 %1 秒）</translation>
    </message>
    <message>
        <source>handshake refused: %1</source>
        <translation>握手被拒绝：%1</translation>
    </message>
    <message>
        <source>invalid JSON at offset %1: %2</source>
        <translation>JSON 无效（偏移 %1）：%2</translation>
    </message>
    <message>
        <source>read error: %1</source>
        <translation>读取错误：%1</translation>
    </message>
    <message>
        <source>write failed: %1</source>
        <translation>写入失败：%1</translation>
    </message>
    <message>
        <source>slow consumer: output queue over %1 bytes</source>
        <translation>客户端读取过慢：待发送数据超过 %1 字节</translation>
    </message>
    <message>
        <source>line too long (limit %1 bytes); connection closed</source>
        <translation>行过长（上限 %1 字节）；连接已关闭</translation>
    </message>
    <message>
        <source>ok (delivered: 0 here)</source>
        <translation>成功（本节点送达 0）</translation>
    </message>
    <message>
        <source>node %1</source>
        <translation>节点 %1</translation>
    </message>
    <message>
        <source>Shut down: %1 clients, %2 dropped at the shutdown timeout, %3 bytes not delivered</source>
        <translation>已停机：%1 个客户端，其中 %2 个因停机超时被断开，%3 字节未送达</translation>
    </message>
    <message numerus="yes">
        <source>%n bytes queued for it were not delivered</source>
        <translation>
            <numerusform>为其排队的 %n 字节未能送达</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>fail: %n target(s) could not take it (slow consumer)</source>
        <translation>
            <numerusform>失败：%n 个目标无法接收（客户端读取过慢）</numerusform>
        </translation>
    </message>
    <message>
        <source>slow consumer: close frame could not be queued</source>
        <translation>客户端读取过慢：无法排队发送关闭帧</translation>
    </message>
    <message>
        <source>shutdown timeout</source>
        <translation>停机超时</translation>
    </message>
    <message>
        <source>evicted: too many connections without a uid (%1)</source>
        <translation>已被淘汰：尚未发送 uid 的连接过多（%1）</translation>
    </message>
    <message>
        <source>Connection rejected: %1</source>
        <translation>连接被拒绝：%1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Listening for WebSocket clients on %1, for pushes on %2, HTTP API %3 (up to %4 files, %5 event loop)</source>
        <translation>在 %1 上监听 WebSocket 客户端，在 %2 上监听推送，HTTP 接口 %3（最多打开 %4 个文件，%5 事件循环）</translation>
    </message>
    <message>
        <source>TLS on</source>
        <translation>TLS 已开启</translation>
    </message>
    <message>
        <source>tokens %1</source>
        <translation>令牌 %1</translation>
    </message>
    <message>
        <source>trusted proxies %1</source>
        <translation>受信任的代理 %1</translation>
    </message>
    <message>
        <source>PROXY protocol on</source>
        <translation>PROXY 协议已开启</translation>
    </message>
    <message>
        <source>node %1, Redis %2</source>
        <translation>节点 %1，Redis %2</translation>
    </message>
    <message>
        <source>offline store %1</source>
        <translation>离线存储 %1</translation>
    </message>
    <message>
        <source>path %1</source>
        <translation>路径 %1</translation>
    </message>
    <message>
        <source>too many connections for this uid (%1), none of them with this token</source>
        <translation>该 uid 的连接数过多（%1），且其中没有使用此令牌的连接</translation>
    </message>
    <message>
        <source>too many connections for this token</source>
        <translation>该令牌的连接数过多</translation>
    </message>
    <message>
        <source>too many connections from this address (%1)</source>
        <translation>来自该地址的连接数过多（%1）</translation>
    </message>
    <message>
        <source>too many connections without a uid (%1)</source>
        <translation>尚未发送 uid 的连接过多（%1）</translation>
    </message>
    <message>
        <source>connection limit reached (%1)</source>
        <translation>已达到连接数上限（%1）</translation>
    </message>
    <message>
        <source>reserved bits set</source>
        <translation>设置了保留位</translation>
    </message>
    <message>
        <source>unmasked client frame</source>
        <translation>客户端帧未加掩码</translation>
    </message>
    <message>
        <source>unknown opcode</source>
        <translation>未知的操作码</translation>
    </message>
    <message>
        <source>invalid frame length</source>
        <translation>无效的帧长度</translation>
    </message>
    <message>
        <source>fragmented or oversized control frame</source>
        <translation>控制帧被分片或过大</translation>
    </message>
    <message>
        <source>PROXY header refused: %1</source>
        <translation>PROXY 头被拒绝：%1</translation>
    </message>
    <message>
        <source>%1: the proxy&apos;s address counts instead</source>
        <translation>%1：改以代理的地址为准</translation>
    </message>
    <message>
        <source>%1 more connections refused in the last second (last: %2)</source>
        <translation>上一秒内另有 %1 个连接被拒绝（最后一个：%2）</translation>
    </message>
    <message>
        <source>%1 more connections without a uid evicted in the last second (last: %2)</source>
        <translation>上一秒内另有 %1 个尚未发送 uid 的连接被淘汰（最后一个：%2）</translation>
    </message>
    <message>
        <source>push connection: %1</source>
        <translation>推送连接：%1</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>HTTP request</source>
        <translation>HTTP 请求</translation>
    </message>
    <message>
        <source>line not finished within %1 ms (--text-line-timeout)</source>
        <translation>一行在 %1 毫秒内未写完（--text-line-timeout）</translation>
    </message>
    <message>
        <source>idle for %1 ms (--text-idle-timeout)</source>
        <translation>空闲 %1 毫秒（--text-idle-timeout）</translation>
    </message>
    <message>
        <source>idle for %1 ms (--text-idle-timeout); replies left unread</source>
        <translation>空闲 %1 毫秒（--text-idle-timeout）；回复未被读取</translation>
    </message>
    <message>
        <source>push port: connection limit reached (%1)</source>
        <translation>推送端口：已达到连接数上限（%1）</translation>
    </message>
    <message>
        <source>push port: source not allowed (see --text-allow)</source>
        <translation>推送端口：来源不被允许（见 --text-allow）</translation>
    </message>
    <message>
        <source>push port: HTTP request (a web page?); connection closed, nothing pushed</source>
        <translation>推送端口：收到 HTTP 请求（来自网页？）；连接已关闭，未推送任何内容</translation>
    </message>
    <message>
        <source>HTTP API: %1</source>
        <translation>HTTP 接口：%1</translation>
    </message>
    <message>
        <source>out of file descriptors: HTTP connection refused</source>
        <translation>文件描述符耗尽：已拒绝 HTTP 连接</translation>
    </message>
    <message>
        <source>the offline store could not take it</source>
        <translation>离线存储无法保存此推送</translation>
    </message>
    <message>
        <source>stored while offline</source>
        <translation>目标离线，已保存</translation>
    </message>
    <message>
        <source>stored message larger than --max-output (%1 bytes): dropped</source>
        <translation>保存的消息大于 --max-output（%1 字节）：已丢弃</translation>
    </message>
    <message>
        <source>offline store: a message of %1 bytes for %2 uid(s) (%3) is over the caps (--offline-max-bytes-per-uid %4, --offline-max-bytes %5): not stored</source>
        <translation>离线存储：发给 %2 个 uid（%3）的 %1 字节消息超过上限（--offline-max-bytes-per-uid %4，--offline-max-bytes %5）：未保存</translation>
    </message>
    <message>
        <source>offline store full: dropped the %1 oldest message(s) of uid %2 (per-uid caps)</source>
        <translation>离线存储已满：已丢弃 uid %2 最旧的 %1 条消息（每个 uid 的上限）</translation>
    </message>
    <message>
        <source>offline store full: dropped the %1 oldest message(s) of all (total caps)</source>
        <translation>离线存储已满：已丢弃全部消息中最旧的 %1 条（总上限）</translation>
    </message>
    <message>
        <source>offline store full: dropped the %1 oldest message(s) of uid %2 (per-uid caps) and the %3 oldest message(s) of all (total caps)</source>
        <translation>离线存储已满：已丢弃 uid %2 最旧的 %1 条消息（每个 uid 的上限），以及全部消息中最旧的 %3 条（总上限）</translation>
    </message>
    <message>
        <source>offline store: %1 failed: %2</source>
        <translation>离线存储：%1 失败：%2</translation>
    </message>
    <message>
        <source>%1 more in the last %2 s (last: %3)</source>
        <translation>最近 %2 秒内另有 %1 条（最后一条：%3）</translation>
    </message>
    <message>
        <source>%1 events not shown (over the admin stream&apos;s limits): %2</source>
        <translation>%1 条事件未显示（超出管理流的限制）：%2</translation>
    </message>
    <message>
        <source>Could not start: %1</source>
        <translation>无法启动：%1</translation>
    </message>
    <message>
        <source>Warning: %1</source>
        <translation>警告：%1</translation>
    </message>
    <message>
        <source>Cluster up: node %1, Redis %2, %3 nodes, %4 uids on other nodes</source>
        <translation>集群已连接：节点 %1，Redis %2，%3 个节点，其他节点上有 %4 个 uid</translation>
    </message>
    <message>
        <source>Cluster down: node %1, Redis %2: %3</source>
        <translation>集群连接已断开：节点 %1，Redis %2：%3</translation>
    </message>
    <message>
        <source>Cluster: node %1 joins again: %2</source>
        <translation>集群：节点 %1 重新加入：%2</translation>
    </message>
    <message>
        <source>Cluster: node %1 refuses to publish (%2 bytes in flight, limit %3): %4</source>
        <translation>集群：节点 %1 拒绝发布（%2 字节等待 Redis 处理，上限 %3）：%4</translation>
    </message>
    <message>
        <source>Configuration read again: applied %1; reloaded %2; needs a restart: %3</source>
        <translation>已重新读取配置：已应用 %1；已重新加载 %2；需要重启：%3</translation>
    </message>
    <message>
        <source>Configuration not read again: %1; nothing changed</source>
        <translation>未重新读取配置：%1；未做任何更改</translation>
    </message>
    <message>
        <source>skipped</source>
        <translation>已略过</translation>
    </message>
    <message>
        <source>HTTPS on for the HTTP API</source>
        <translation>HTTP API 已启用 HTTPS</translation>
    </message>
</context>
<context>
    <name>HttpApi</name>
    <message>
        <source>cannot listen for HTTP requests on %1:%2: %3</source>
        <translation>无法在 %1:%2 上监听 HTTP 请求：%3</translation>
    </message>
    <message>
        <source>cannot read the HTTP API key file &quot;%1&quot;: %2</source>
        <translation>无法读取 HTTP API 密钥文件“%1”：%2</translation>
    </message>
    <message>
        <source>the HTTP API key file &quot;%1&quot; is larger than 4 KiB</source>
        <translation>HTTP API 密钥文件“%1”大于 4 KiB</translation>
    </message>
    <message>
        <source>the HTTP API key file &quot;%1&quot; is empty</source>
        <translation>HTTP API 密钥文件“%1”为空</translation>
    </message>
    <message>
        <source>the HTTP API key file &quot;%1&quot; must hold one key of printable ASCII characters without spaces</source>
        <translation>HTTP API 密钥文件“%1”必须只包含一个由可打印 ASCII 字符组成、不含空格的密钥</translation>
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
    <name>LogModel</name>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Direction</source>
        <translation>方向</translation>
    </message>
    <message>
        <source>uid</source>
        <translation>uid</translation>
    </message>
    <message>
        <source>From</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>内容</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
</context>
<context>
    <name>LogPanel</name>
    <message>
        <source>Pause auto-scroll</source>
        <translation>暂停自动滚动</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Stop following new events (Ctrl+P); the log still records them</source>
        <translation>不再跟随新事件（Ctrl+P）；日志仍会继续记录</translation>
    </message>
    <message>
        <source>Clear log</source>
        <translation>清空日志</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Empty the log view (Ctrl+Shift+L)</source>
        <translation>清空日志视图（Ctrl+Shift+L）</translation>
    </message>
    <message>
        <source>Export log…</source>
        <translation>导出日志…</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Save the rows the filter shows as CSV or JSON lines (Ctrl+S)</source>
        <translation>将当前筛选显示的行保存为 CSV 或 JSON Lines（Ctrl+S）</translation>
    </message>
    <message>
        <source>In</source>
        <translation>收</translation>
    </message>
    <message>
        <source>Messages clients sent after binding</source>
        <translation>客户端绑定后发来的消息</translation>
    </message>
    <message>
        <source>Out</source>
        <translation>发</translation>
    </message>
    <message>
        <source>Pushes, from backends and from this console</source>
        <translation>推送：来自后端和本控制台</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Connections, binds, closes, listeners and errors</source>
        <translation>连接、绑定、关闭、监听和错误</translation>
    </message>
    <message>
        <source>Filter uid</source>
        <translation>筛选 uid</translation>
    </message>
    <message>
        <source>Show only events whose uid contains this</source>
        <translation>只显示 uid 包含此内容的事件</translation>
    </message>
    <message>
        <source>Search text</source>
        <translation>搜索内容</translation>
    </message>
    <message>
        <source>Text, sender or result contains (Ctrl+Shift+F)</source>
        <translation>内容、来源或结果包含（Ctrl+Shift+F）</translation>
    </message>
    <message>
        <source>Message log</source>
        <translation>消息日志</translation>
    </message>
    <message>
        <source>Select an event to see its whole text.</source>
        <translation>选择一条事件以查看完整内容。</translation>
    </message>
    <message>
        <source>%1 events</source>
        <translation>%1 条事件</translation>
    </message>
    <message>
        <source>%1 of %2 events</source>
        <translation>%1 / %2 条事件</translation>
    </message>
    <message>
        <source>The log keeps the latest %1 events; older ones are dropped (%2 so far).</source>
        <translation>日志保留最近 %1 条事件，更早的会被丢弃（已丢弃 %2 条）。</translation>
    </message>
    <message>
        <source>uid %1</source>
        <translation>uid %1</translation>
    </message>
    <message>
        <source>from %1</source>
        <translation>来自 %1</translation>
    </message>
    <message>
        <source>connection %1</source>
        <translation>连接 %1</translation>
    </message>
    <message>
        <source>(only the first %1 bytes are kept)</source>
        <translation>（只保留前 %1 字节）</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV（*.csv）</translation>
    </message>
    <message>
        <source>JSON lines (*.jsonl)</source>
        <translation>JSON Lines（*.jsonl）</translation>
    </message>
    <message>
        <source>Export log</source>
        <translation>导出日志</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Exported to %1 (events: %2)</source>
        <translation>已导出到 %1（%2 条事件）</translation>
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
    <message>
        <source>&amp;Start listeners</source>
        <translation>启动监听(&amp;S)</translation>
    </message>
    <message>
        <source>Open the WebSocket and push ports (F5)</source>
        <translation>打开 WebSocket 端口和推送端口（F5）</translation>
    </message>
    <message>
        <source>S&amp;top listeners</source>
        <translation>停止监听(&amp;T)</translation>
    </message>
    <message>
        <source>Close the ports; connected clients stay and still receive pushes (Shift+F5)</source>
        <translation>关闭端口；已连接的客户端保持连接并仍能收到推送（Shift+F5）</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>设置(&amp;T)…</translation>
    </message>
    <message>
        <source>Ports, bind addresses and heartbeat (Ctrl+,)</source>
        <translation>端口、监听地址和心跳（Ctrl+,）</translation>
    </message>
    <message>
        <source>&amp;Disconnect uid</source>
        <translation>断开 uid(&amp;D)</translation>
    </message>
    <message>
        <source>Close every connection of the selected uids (Ctrl+D in the table)</source>
        <translation>关闭所选 uid 的全部连接（在表格中按 Ctrl+D）</translation>
    </message>
    <message>
        <source>&amp;Copy uid</source>
        <translation>复制 uid(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the selected uids to the clipboard (Ctrl+C in the table)</source>
        <translation>将所选 uid 复制到剪贴板（在表格中按 Ctrl+C）</translation>
    </message>
    <message>
        <source>&amp;Find uid</source>
        <translation>查找 uid(&amp;F)</translation>
    </message>
    <message>
        <source>Search the &amp;log</source>
        <translation>搜索日志(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>&amp;Gateway</source>
        <translation>网关(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Online</source>
        <translation>在线(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Log</source>
        <translation>日志(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About Push Console</source>
        <translation>关于推送控制台(&amp;A)</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>关于 &amp;Qt</translation>
    </message>
    <message>
        <source>The gateway is not listening: %1. Change the ports in the settings or free them, then retry.</source>
        <translation>网关未在监听：%1。请在设置中更换端口或释放被占用的端口，然后重试。</translation>
    </message>
    <message>
        <source>Listening again.</source>
        <translation>已重新开始监听。</translation>
    </message>
    <message>
        <source>Listeners closed: no new clients or pushes; connected clients stay.</source>
        <translation>监听已关闭：不再接受新客户端和推送；已连接的客户端保持连接。</translation>
    </message>
    <message>
        <source>Settings applied; listeners restarted.</source>
        <translation>设置已应用，监听已重启。</translation>
    </message>
    <message>
        <source>Disconnected %1 (connections closed: %2)</source>
        <translation>已断开 %1（关闭了 %2 个连接）</translation>
    </message>
    <message>
        <source>Copied to the clipboard: %1</source>
        <translation>已复制到剪贴板：%1</translation>
    </message>
    <message>
        <source>About Push Console</source>
        <translation>关于推送控制台</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Push Console %1&lt;/h3&gt;&lt;p&gt;A WebSocket uid push gateway and its operator console.&lt;/p&gt;&lt;p&gt;Browsers bind a uid on the WebSocket port; backends write one JSON line to the push port and every connection of that uid receives it.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;推送控制台 %1&lt;/h3&gt;&lt;p&gt;WebSocket uid 推送网关及其运维控制台。&lt;/p&gt;&lt;p&gt;浏览器在 WebSocket 端口上绑定 uid；后端向推送端口写入一行 JSON，该 uid 的每个连接都会收到。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Start listeners</source>
        <translation>启动监听</translation>
    </message>
    <message>
        <source>Stop listeners</source>
        <translation>停止监听</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Disconnect uid</source>
        <translation>断开 uid</translation>
    </message>
    <message>
        <source>Copy uid</source>
        <translation>复制 uid</translation>
    </message>
    <message>
        <source>Push Console — node %1 — ws %2, push %3</source>
        <translation>推送控制台 — 节点 %1 — ws %2，推送 %3</translation>
    </message>
    <message>
        <source>disconnected</source>
        <translation>已断开</translation>
    </message>
    <message>
        <source>Could not disconnect %1: %2</source>
        <translation>无法断开 %1：%2</translation>
    </message>
    <message>
        <source>&lt;p&gt;Attached to the gateway at %1 (version %2).&lt;/p&gt;</source>
        <translation>&lt;p&gt;已附加到位于 %1 的网关（版本 %2）。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>The connection to the gateway at %1 was lost; reconnecting…</source>
        <translation>与位于 %1 的网关的连接已断开；正在重新连接…</translation>
    </message>
    <message>
        <source>&amp;Attach to…</source>
        <translation>附加到(&amp;A)…</translation>
    </message>
    <message>
        <source>Watch a gateway on another machine in a new window</source>
        <translation>在新窗口中查看另一台机器上的网关</translation>
    </message>
    <message>
        <source>Push Console — attached to %1</source>
        <translation>推送控制台 — 已附加到 %1</translation>
    </message>
    <message>
        <source>Push Console — %1 at %2</source>
        <translation>推送控制台 — 节点 %1，位于 %2</translation>
    </message>
    <message>
        <source>not listening</source>
        <translation>未监听</translation>
    </message>
    <message>
        <source>Not connected any more: %1</source>
        <translation>已不再连接：%1</translation>
    </message>
    <message>
        <source>Disconnected %1 (connections closed here: %2; other nodes asked to close theirs: %3)</source>
        <translation>已断开 %1（本节点关闭的连接：%2；已请求其他节点关闭各自连接：%3）</translation>
    </message>
</context>
<context>
    <name>MessageBanner</name>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>关闭提示</translation>
    </message>
</context>
<context>
    <name>MetricList</name>
    <message>
        <source># Metrics</source>
        <translation># 指标</translation>
    </message>
    <message>
        <source>*Generated by `pushconsole --help-metrics` from the metric list (core/server/MetricList.cpp), which GET /metrics is written from too; `cmake --build build --target update_docs` writes it again.*</source>
        <translation>*由 `pushconsole --help-metrics` 根据指标列表（core/server/MetricList.cpp）生成，GET /metrics 的输出也来自该列表；运行 `cmake --build build --target update_docs` 可重新生成。*</translation>
    </message>
    <message>
        <source>`GET /metrics` on the HTTP port answers in the Prometheus text exposition format 0.0.4 (`Content-Type: %1`). With an API key set it needs the key (`authorization: {type: Bearer, credentials_file: /etc/pushconsole/api.key}` in the scrape config) unless `--http-public-metrics`. Scrape config: `static_configs: [{targets: [&quot;%2:%3&quot;]}]`.</source>
        <translation>HTTP 端口上的 `GET /metrics` 以 Prometheus 文本暴露格式 0.0.4 响应（`Content-Type: %1`）。设置了 API 密钥时需要提供该密钥（在抓取配置中写 `authorization: {type: Bearer, credentials_file: /etc/pushconsole/api.key}`），除非指定了 `--http-public-metrics`。抓取配置：`static_configs: [{targets: [&quot;%2:%3&quot;]}]`。</translation>
    </message>
    <message>
        <source>| metric | type | labels | meaning |</source>
        <translation>| 指标 | 类型 | 标签 | 说明 |</translation>
    </message>
    <message>
        <source>`le`: buckets from %1 to %2</source>
        <translation>`le`：从 %1 到 %2 的分桶</translation>
    </message>
    <message>
        <source>A push that is over `--max-line` on either port never reaches the router and is not in `pushconsole_pushes_total`; on HTTP it shows as `code=&quot;413&quot;`.</source>
        <translation>在任一端口上超过 `--max-line` 的推送都不会到达路由器，也不计入 `pushconsole_pushes_total`；在 HTTP 上表现为 `code=&quot;413&quot;`。</translation>
    </message>
</context>
<context>
    <name>OnlineModel</name>
    <message>
        <source>Connected for %1</source>
        <translation>已连接 %1</translation>
    </message>
    <message>
        <source>%1 and %2 more</source>
        <translation>%1 等另外 %2 个</translation>
    </message>
    <message>
        <source>Frames received from this uid&apos;s clients, the bind message included</source>
        <translation>从此 uid 的客户端收到的帧数（含绑定消息）</translation>
    </message>
    <message>
        <source>Pushes delivered to this uid&apos;s connections</source>
        <translation>送达此 uid 各连接的推送数</translation>
    </message>
    <message>
        <source>uid</source>
        <translation>uid</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>连接数</translation>
    </message>
    <message>
        <source>Peers</source>
        <translation>对端地址</translation>
    </message>
    <message>
        <source>Connected since</source>
        <translation>连接时间</translation>
    </message>
    <message>
        <source>Last activity</source>
        <translation>最近活动</translation>
    </message>
    <message>
        <source>In</source>
        <translation>收</translation>
    </message>
    <message>
        <source>Out</source>
        <translation>发</translation>
    </message>
    <message>
        <source>Connected to %1 only, not to this node</source>
        <translation>仅连接在 %1，不在本节点</translation>
    </message>
    <message>
        <source>Connected to this node (%1) and to %2</source>
        <translation>连接在本节点（%1）和 %2</translation>
    </message>
    <message>
        <source>Connected to this node (%1)</source>
        <translation>连接在本节点（%1）</translation>
    </message>
    <message>
        <source>Connected to %1, not to this node: that node&apos;s console shows its connections</source>
        <translation>连接在 %1，不在本节点：其连接详情请在该节点的控制台查看</translation>
    </message>
    <message>
        <source>The gateways of the cluster this uid is connected to, this one first</source>
        <translation>此 uid 所连接的集群网关，本节点排在最前</translation>
    </message>
    <message>
        <source>Open WebSocket connections bound to this uid on this node</source>
        <translation>本节点上绑定到此 uid 的 WebSocket 连接数</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>节点</translation>
    </message>
</context>
<context>
    <name>OnlinePanel</name>
    <message>
        <source>Search uid (Ctrl+F)</source>
        <translation>搜索 uid（Ctrl+F）</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <source>uids: %1 · connections: %2</source>
        <translation>uid：%1 · 连接：%2</translation>
    </message>
    <message>
        <source>Connections: select a uid to see them</source>
        <translation>连接：选择一个 uid 以查看</translation>
    </message>
    <message>
        <source>Connections: %1 uids selected</source>
        <translation>连接：已选择 %1 个 uid</translation>
    </message>
    <message>
        <source>Connections of %1</source>
        <translation>%1 的连接</translation>
    </message>
    <message>
        <source>This node</source>
        <translation>本节点</translation>
    </message>
    <message>
        <source>Only the uids connected to this gateway</source>
        <translation>只显示连接在本网关的 uid</translation>
    </message>
    <message>
        <source>Whole cluster</source>
        <translation>整个集群</translation>
    </message>
    <message>
        <source>The uids of every gateway in the cluster, with the node each is connected to</source>
        <translation>显示集群中所有网关的 uid，以及各自所连接的节点</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>显示：</translation>
    </message>
    <message>
        <source>The link to the cluster is down: only this node&apos;s uids are shown, and pushes to uids on other nodes fail. Local delivery goes on; reconnecting to Redis…</source>
        <translation>与集群的连接已断开：只显示本节点的 uid，推送给其他节点上的 uid 会失败。本地推送照常进行；正在重新连接 Redis…</translation>
    </message>
    <message>
        <source>uids here: %1 · connections: %2 · joining the cluster…</source>
        <translation>本节点 uid：%1 · 连接：%2 · 正在加入集群…</translation>
    </message>
    <message>
        <source>uids here: %1 · connections: %2 · cluster link down</source>
        <translation>本节点 uid：%1 · 连接：%2 · 集群连接已断开</translation>
    </message>
    <message>
        <source>uids here: %1 · connections: %2 · uids in the cluster: %3 · nodes: %4</source>
        <translation>本节点 uid：%1 · 连接：%2 · 集群 uid：%3 · 节点：%4</translation>
    </message>
    <message>
        <source>Connections of %1 on this node (also connected to %2)</source>
        <translation>%1 在本节点的连接（同时连接在 %2）</translation>
    </message>
    <message>
        <source>%1 is connected to %2, not to this node, so its connections are listed in that node&apos;s console. Pushes from here still reach it through the cluster.</source>
        <translation>%1 连接在 %2，不在本节点，其连接列在该节点的控制台中。从这里推送仍会经由集群送达。</translation>
    </message>
</context>
<context>
    <name>PushComposer</name>
    <message>
        <source>Write a JSON object, for example {&quot;msg&quot;: &quot;hello&quot;}.</source>
        <translation>请填写一个 JSON 对象，例如 {&quot;msg&quot;: &quot;hello&quot;}。</translation>
    </message>
    <message>
        <source>Invalid JSON at line %1, column %2: %3</source>
        <translation>JSON 无效（第 %1 行，第 %2 列）：%3</translation>
    </message>
    <message>
        <source>The payload must be a JSON object ({ … }).</source>
        <translation>消息内容必须是 JSON 对象（{ … }）。</translation>
    </message>
    <message>
        <source>Enter a target uid, several uids, or choose broadcast.</source>
        <translation>请输入目标 uid（可多个），或选择广播。</translation>
    </message>
</context>
<context>
    <name>PushHistoryModel</name>
    <message>
        <source>everyone</source>
        <translation>所有人</translation>
    </message>
    <message>
        <source>%1  →  %2   %3</source>
        <translation>%1  →  %2   %3</translation>
    </message>
    <message>
        <source>To: %1
Sent: %2
Result: %3

%4</source>
        <translation>发送给：%1
发送时间：%2
结果：%3

%4</translation>
    </message>
</context>
<context>
    <name>PushPanel</name>
    <message>
        <source>uid, or several: 1001, 1002</source>
        <translation>uid，可填多个：1001, 1002</translation>
    </message>
    <message>
        <source>One uid, or several separated by commas; completes from the online uids</source>
        <translation>一个 uid，或用逗号分隔的多个 uid；可从在线 uid 中自动补全</translation>
    </message>
    <message>
        <source>Everyone (broadcast)</source>
        <translation>所有人（广播）</translation>
    </message>
    <message>
        <source>Insert a template…</source>
        <translation>插入模板…</translation>
    </message>
    <message>
        <source>A JSON object; its &quot;uid&quot; is set from the target.</source>
        <translation>一个 JSON 对象；其中的 &quot;uid&quot; 由目标决定。</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Push through the gateway&apos;s router, like the push port (Ctrl+Enter)</source>
        <translation>与推送端口一样，经网关的路由器推送（Ctrl+Enter）</translation>
    </message>
    <message>
        <source>Send again</source>
        <translation>再次发送</translation>
    </message>
    <message>
        <source>Send the selected recent push again, unchanged</source>
        <translation>原样再次发送所选的最近推送</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>发送给：</translation>
    </message>
    <message>
        <source>Template:</source>
        <translation>模板：</translation>
    </message>
    <message>
        <source>Recent pushes</source>
        <translation>最近推送</translation>
    </message>
    <message>
        <source>Push</source>
        <translation>推送</translation>
    </message>
    <message>
        <source>Valid JSON object.</source>
        <translation>JSON 对象有效。</translation>
    </message>
    <message>
        <source>It goes to every connected client.</source>
        <translation>将发送给所有已连接的客户端。</translation>
    </message>
    <message>
        <source>No target: the payload&apos;s own &quot;uid&quot; decides.</source>
        <translation>未填目标：由消息内容自身的 &quot;uid&quot; 决定。</translation>
    </message>
    <message>
        <source>Enter a target uid.</source>
        <translation>请输入目标 uid。</translation>
    </message>
    <message>
        <source>Its &quot;uid&quot; is replaced by the target.</source>
        <translation>其中的 &quot;uid&quot; 会被替换为目标。</translation>
    </message>
    <message>
        <source>%1  ok: connections reached: %2.</source>
        <translation>%1  成功：送达 %2 个连接。</translation>
    </message>
    <message>
        <source>%1  fail: no target is online.</source>
        <translation>%1  失败：目标均不在线。</translation>
    </message>
    <message>
        <source>%1  error: %2</source>
        <translation>%1  错误：%2</translation>
    </message>
    <message>
        <source>%1  ok: connections reached here: %2; published to other nodes: %3.</source>
        <translation>%1  成功：本节点送达 %2 个连接；已发布到其他 %3 个节点。</translation>
    </message>
    <message>
        <source>%1  queued: no target is online; stored for %2 uids, each delivered when it binds.</source>
        <translation>%1  已排队：目标均不在线；已为 %2 个 uid 保存，各自绑定时投递。</translation>
    </message>
    <message>
        <source>%1  queued: the uid is not online; stored and delivered when it binds.</source>
        <translation>%1  已排队：该 uid 不在线；已保存，待其绑定时投递。</translation>
    </message>
    <message>
        <source>%1  sending: waiting for the cluster&apos;s answer…</source>
        <translation>%1  发送中：正在等待集群的应答…</translation>
    </message>
    <message>
        <source>%1  sending: waiting for the gateway&apos;s answer…</source>
        <translation>%1  发送中：正在等待网关的应答…</translation>
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
    <message>
        <source>the command line asks for help or the version, not to run</source>
        <translation>命令行请求的是帮助或版本信息，而不是运行</translation>
    </message>
    <message>
        <source>--http-tls needs --tls-cert and --tls-key</source>
        <translation>--http-tls 需要同时指定 --tls-cert 和 --tls-key</translation>
    </message>
</context>
<context>
    <name>PushTemplates</name>
    <message>
        <source>Lock closed (the seed&apos;s callback)</source>
        <translation>关锁成功（原文中的回调）</translation>
    </message>
    <message>
        <source>The lock has closed. Your ride is over.</source>
        <translation>车锁已关闭，本次骑行结束。</translation>
    </message>
    <message>
        <source>Text message</source>
        <translation>文本消息</translation>
    </message>
    <message>
        <source>Hello from the operator</source>
        <translation>来自运维人员的问候</translation>
    </message>
    <message>
        <source>Order status</source>
        <translation>订单状态</translation>
    </message>
    <message>
        <source>Empty object</source>
        <translation>空对象</translation>
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
        <source>the password comes from --redis-password-file: leave it out of the URL</source>
        <translation>密码来自 --redis-password-file：请不要在网址中写密码</translation>
    </message>
    <message>
        <source>a user name needs a password (redis://user:password@host, or --redis-password-file)</source>
        <translation>指定用户名时需要密码（redis://user:password@host，或 --redis-password-file）</translation>
    </message>
    <message>
        <source>the Redis password file &quot;%1&quot; is a directory</source>
        <translation>Redis 密码文件“%1”是一个目录</translation>
    </message>
    <message>
        <source>cannot read the Redis password file &quot;%1&quot;: %2</source>
        <translation>无法读取 Redis 密码文件“%1”：%2</translation>
    </message>
    <message>
        <source>the Redis password file &quot;%1&quot; is larger than 64 KiB</source>
        <translation>Redis 密码文件“%1”大于 64 KiB</translation>
    </message>
    <message>
        <source>the Redis password file &quot;%1&quot; is empty</source>
        <translation>Redis 密码文件“%1”为空</translation>
    </message>
    <message>
        <source>the Redis password file &quot;%1&quot; holds more than one line</source>
        <translation>Redis 密码文件“%1”超过一行</translation>
    </message>
</context>
<context>
    <name>RemoteGatewaySource</name>
    <message>
        <source>The gateway at %1 did not answer within %2 s.</source>
        <translation>位于 %1 的网关在 %2 秒内没有应答。</translation>
    </message>
    <message>
        <source>The gateway at %1 has an incompatible version: it offers the admin protocol &quot;%2&quot; where this console needs &quot;%3&quot;.</source>
        <translation>位于 %1 的网关版本不兼容：它提供的管理协议是“%2”，而本控制台需要“%3”。</translation>
    </message>
    <message>
        <source>The connection to the gateway at %1 was lost.</source>
        <translation>与位于 %1 的网关的连接已断开。</translation>
    </message>
    <message>
        <source>The connection to the gateway at %1 was lost: %2</source>
        <translation>与位于 %1 的网关的连接已断开：%2</translation>
    </message>
    <message>
        <source>The TLS connection to %1 failed: %2. Check the gateway&apos;s certificate or give its CA with --attach-ca.</source>
        <translation>与 %1 的 TLS 连接失败：%2。请检查网关的证书，或用 --attach-ca 提供其 CA。</translation>
    </message>
    <message>
        <source>The gateway at %1 refused the API key (HTTP %2): check the key file.</source>
        <translation>位于 %1 的网关拒绝了 API 密钥（HTTP %2）：请检查密钥文件。</translation>
    </message>
    <message>
        <source>The gateway at %1 has an incompatible version (HTTP %2): it does not offer the admin stream this console needs (%3).</source>
        <translation>位于 %1 的网关版本不兼容（HTTP %2）：它不提供本控制台所需的管理流（%3）。</translation>
    </message>
    <message>
        <source>The gateway at %1 has too many consoles attached (HTTP 503); retrying.</source>
        <translation>附加到位于 %1 的网关的控制台过多（HTTP 503）；正在重试。</translation>
    </message>
    <message>
        <source>The gateway at %1 answered HTTP %2 instead of opening the admin stream.</source>
        <translation>位于 %1 的网关返回了 HTTP %2，而没有打开管理流。</translation>
    </message>
    <message>
        <source>Nothing accepts connections at %1 (connection refused): check the URL and that the gateway runs with its HTTP API on.</source>
        <translation>%1 上没有程序接受连接（连接被拒绝）：请检查网址，并确认网关正在运行且已开启 HTTP 接口。</translation>
    </message>
    <message>
        <source>The host of %1 was not found: check the URL.</source>
        <translation>找不到 %1 的主机：请检查网址。</translation>
    </message>
    <message>
        <source>The gateway at %1 cannot be reached: %2</source>
        <translation>无法访问位于 %1 的网关：%2</translation>
    </message>
    <message>
        <source>Cannot attach to the gateway at %1: %2</source>
        <translation>无法附加到位于 %1 的网关：%2</translation>
    </message>
    <message>
        <source>The gateway at %1 sent a greeting this console cannot read (%2).</source>
        <translation>位于 %1 的网关发来的问候消息本控制台无法读取（%2）。</translation>
    </message>
    <message>
        <source>The gateway at %1 speaks admin protocol %2; this console knows 1.</source>
        <translation>位于 %1 的网关使用管理协议 %2；本控制台只支持 1。</translation>
    </message>
    <message>
        <source>The listeners of a gateway the console is attached to are not the console&apos;s to open.</source>
        <translation>控制台不能打开所附加网关的监听。</translation>
    </message>
    <message>
        <source>the gateway at %1 cannot be reached: %2</source>
        <translation>无法访问位于 %1 的网关：%2</translation>
    </message>
    <message>
        <source>the gateway refused the API key (HTTP %1)</source>
        <translation>网关拒绝了 API 密钥（HTTP %1）</translation>
    </message>
    <message>
        <source>the gateway answered HTTP %1</source>
        <translation>网关返回了 HTTP %1</translation>
    </message>
</context>
<context>
    <name>RemoteSocket</name>
    <message>
        <source>socket thread queue full</source>
        <translation>套接字线程的队列已满</translation>
    </message>
    <message>
        <source>socket threads stopped</source>
        <translation>套接字线程已停止</translation>
    </message>
</context>
<context>
    <name>ServerStatusBar</name>
    <message>
        <source>Online uids: %1 · connections: %2</source>
        <translation>在线 uid：%1 · 连接：%2</translation>
    </message>
    <message>
        <source>Listening: WebSocket %1 · push %2</source>
        <translation>监听：WebSocket %1 · 推送 %2</translation>
    </message>
    <message>
        <source>Up %1</source>
        <translation>运行 %1</translation>
    </message>
    <message>
        <source>Not listening</source>
        <translation>未监听</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Pushes: %1 ok · %2 fail · %3 error</source>
        <translation>推送：成功 %1 · 失败 %2 · 错误 %3</translation>
    </message>
    <message>
        <source>Pushes: %1 ok · %2 fail · %3 queued · %4 error</source>
        <translation>推送：成功 %1 · 失败 %2 · 排队 %3 · 错误 %4</translation>
    </message>
    <message>
        <source>Node %1 · joining the cluster…</source>
        <translation>节点 %1 · 正在加入集群…</translation>
    </message>
    <message>
        <source>Node %1 of %2</source>
        <translation>节点 %1（共 %2 个）</translation>
    </message>
    <message>
        <source>Node %1 · cluster link down</source>
        <translation>节点 %1 · 集群连接已断开</translation>
    </message>
    <message>
        <source>Redis: %1
Pushes published to other nodes: %2
Pushes received from other nodes: %3
Times the link was lost: %4</source>
        <translation>Redis：%1
发布到其他节点的推送：%2
从其他节点收到的推送：%3
连接断开次数：%4</translation>
    </message>
    <message>
        <source>Connection to the gateway lost: reconnecting…</source>
        <translation>与网关的连接已断开：正在重新连接…</translation>
    </message>
    <message>
        <source>Reconnected: reading the gateway&apos;s state…</source>
        <translation>已重新连接：正在读取网关状态…</translation>
    </message>
    <message>
        <source>Attached to %1 · gateway %2</source>
        <translation>已附加到 %1 · 网关 %2</translation>
    </message>
    <message>
        <source>Attached to %1 · node %2 · gateway %3</source>
        <translation>已附加到 %1 · 节点 %2 · 网关 %3</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>any free port</source>
        <translation>任意空闲端口</translation>
    </message>
    <message>
        <source>Gateway settings</source>
        <translation>网关设置</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>never</source>
        <translation>从不</translation>
    </message>
    <message>
        <source>WebSocket clients</source>
        <translation>WebSocket 客户端</translation>
    </message>
    <message>
        <source>Address:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <source>Push port (backends)</source>
        <translation>推送端口（供后端使用）</translation>
    </message>
    <message>
        <source>Anyone who can reach the push port can push to any user: keep it on 127.0.0.1 unless a firewall protects it.</source>
        <translation>能访问推送端口的人可以向任何用户推送：除非有防火墙保护，请保持为 127.0.0.1。</translation>
    </message>
    <message>
        <source>Heartbeat</source>
        <translation>心跳</translation>
    </message>
    <message>
        <source>Drop clients idle for:</source>
        <translation>客户端空闲超过此时长即断开：</translation>
    </message>
    <message>
        <source>Ping clients every:</source>
        <translation>向客户端发送 ping 的间隔：</translation>
    </message>
    <message>
        <source>Applying restarts the listeners; connected clients stay connected. The settings last until the console quits: put them in a --config file to keep them.</source>
        <translation>应用后会重启监听，已连接的客户端保持连接。这些设置在控制台退出后失效；如需保留，请写入 --config 配置文件。</translation>
    </message>
    <message>
        <source>Apply and restart listeners</source>
        <translation>应用并重启监听</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not an IP address (for example 0.0.0.0, 127.0.0.1 or ::).</source>
        <translation>“%1”不是 IP 地址（例如 0.0.0.0、127.0.0.1 或 ::）。</translation>
    </message>
    <message>
        <source>The WebSocket port and the push port must differ.</source>
        <translation>WebSocket 端口和推送端口不能相同。</translation>
    </message>
    <message>
        <source>The listeners could not be restarted: %1</source>
        <translation>无法重启监听：%1</translation>
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
    <message>
        <source>checkpoint thread: %1</source>
        <translation>检查点线程：%1</translation>
    </message>
</context>
<context>
    <name>StatsChart</name>
    <message>
        <source>%1 min ago</source>
        <translation>%1 分钟前</translation>
    </message>
    <message>
        <source>now</source>
        <translation>现在</translation>
    </message>
    <message>
        <source>Online connections</source>
        <translation>在线连接</translation>
    </message>
    <message>
        <source>Pushes per second</source>
        <translation>每秒推送</translation>
    </message>
    <message>
        <source>peak %1 · scale %2</source>
        <translation>峰值 %1 · 刻度 %2</translation>
    </message>
</context>
<context>
    <name>StatsCounters</name>
    <message>
        <source>Cluster</source>
        <translation>集群</translation>
    </message>
    <message>
        <source>Pushes this node published to the nodes holding their uids, pushes other nodes published to this one, and how often the link to Redis was lost</source>
        <translation>本节点发布给持有目标 uid 的节点的推送数、其他节点发布给本节点的推送数，以及与 Redis 的连接断开次数</translation>
    </message>
    <message>
        <source>Offline delivery</source>
        <translation>离线投递</translation>
    </message>
    <message>
        <source>published %1 · received %2 · link lost %3×</source>
        <translation>已发布 %1 · 已接收 %2 · 断开 %3 次</translation>
    </message>
    <message>
        <source>stored %1 · delivered %2 · dropped %3 · expired %4</source>
        <translation>已保存 %1 · 已投递 %2 · 已丢弃 %3 · 已过期 %4</translation>
    </message>
    <message>
        <source>Pushes to uids online nowhere are kept for %1 (%2) and delivered when the uid binds; the oldest are dropped past the caps (%3 per uid, %4 in all).</source>
        <translation>推送给任何节点都不在线的 uid 时保存 %1（%2），在其绑定时投递；超出上限（每个 uid %3 条，总计 %4 条）时丢弃最旧的。</translation>
    </message>
</context>
<context>
    <name>TimeText</name>
    <message>
        <source>just now</source>
        <translation>刚刚</translation>
    </message>
    <message>
        <source>%1 s ago</source>
        <translation>%1 秒前</translation>
    </message>
    <message>
        <source>%1 min %2 s ago</source>
        <translation>%1 分 %2 秒前</translation>
    </message>
    <message>
        <source>%1 h %2 min ago</source>
        <translation>%1 小时 %2 分前</translation>
    </message>
    <message>
        <source>%1 d %2 h ago</source>
        <translation>%1 天 %2 小时前</translation>
    </message>
    <message>
        <source>%1 d %2</source>
        <translation>%1 天 %2</translation>
    </message>
    <message>
        <source>%1 B</source>
        <translation>%1 B</translation>
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
        <translation>无法读取证书文件“%1”：%2</translation>
    </message>
    <message>
        <source>cannot read key file &quot;%1&quot;: %2</source>
        <translation>无法读取私钥文件“%1”：%2</translation>
    </message>
    <message>
        <source>&quot;%1&quot; holds no PEM certificate</source>
        <translation>“%1”中没有 PEM 证书</translation>
    </message>
    <message>
        <source>&quot;%1&quot; holds no unencrypted PEM private key</source>
        <translation>“%1”中没有未加密的 PEM 私钥</translation>
    </message>
    <message>
        <source>the key in &quot;%1&quot; does not belong to the certificate in &quot;%2&quot;</source>
        <translation>“%1”中的私钥与“%2”中的证书不匹配</translation>
    </message>
    <message>
        <source>the certificate in &quot;%1&quot; expired on %2</source>
        <translation>“%1”中的证书已于 %2 过期</translation>
    </message>
    <message>
        <source>the TLS library knows none of the ciphers %1</source>
        <translation>TLS 库不支持以下任何一种密码套件：%1</translation>
    </message>
</context>
<context>
    <name>TokenVerifier</name>
    <message>
        <source>the secret is empty</source>
        <translation>密钥为空</translation>
    </message>
    <message>
        <source>the secret is %1 bytes long; at least %2 are needed (create one with: openssl rand -hex 32)</source>
        <translation>密钥长 %1 字节；至少需要 %2 字节（可用 openssl rand -hex 32 生成）</translation>
    </message>
    <message>
        <source>larger than %1 bytes</source>
        <translation>大于 %1 字节</translation>
    </message>
    <message>
        <source>cannot read the secret file &quot;%1&quot;: %2</source>
        <translation>无法读取密钥文件“%1”：%2</translation>
    </message>
    <message>
        <source>the secret file &quot;%1&quot; is empty</source>
        <translation>密钥文件“%1”为空</translation>
    </message>
    <message>
        <source>the secret in &quot;%1&quot; is %2 bytes long; at least %3 are needed (create one with: openssl rand -hex 32 &gt; FILE)</source>
        <translation>“%1”中的密钥长 %2 字节；至少需要 %3 字节（可用 openssl rand -hex 32 &gt; FILE 生成）</translation>
    </message>
    <message>
        <source>this is a private key; give the public key instead (openssl pkey -in KEY -pubout)</source>
        <translation>这是私钥；请改为提供公钥（openssl pkey -in KEY -pubout）</translation>
    </message>
    <message>
        <source>this is a certificate; give its public key instead (openssl x509 -in CERT -pubkey -noout)</source>
        <translation>这是证书；请改为提供其公钥（openssl x509 -in CERT -pubkey -noout）</translation>
    </message>
    <message>
        <source>no PEM public key (&quot;-----BEGIN PUBLIC KEY-----&quot;) found</source>
        <translation>未找到 PEM 公钥（“-----BEGIN PUBLIC KEY-----”）</translation>
    </message>
    <message>
        <source>the RSA key has %1 bits; at least %2 are needed</source>
        <translation>RSA 密钥为 %1 位；至少需要 %2 位</translation>
    </message>
    <message>
        <source>the EC key is on curve %1; only P-256 (prime256v1, for ES256) is supported</source>
        <translation>EC 密钥使用曲线 %1；仅支持 P-256（prime256v1，用于 ES256）</translation>
    </message>
    <message>
        <source>unsupported key type %1; use an RSA key (RS256) or an EC P-256 key (ES256)</source>
        <translation>不支持的密钥类型 %1；请使用 RSA 密钥（RS256）或 EC P-256 密钥（ES256）</translation>
    </message>
    <message>
        <source>cannot read the public key file &quot;%1&quot;: %2</source>
        <translation>无法读取公钥文件“%1”：%2</translation>
    </message>
    <message>
        <source>public key file &quot;%1&quot;: %2</source>
        <translation>公钥文件“%1”：%2</translation>
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
        <translation>pushconsole：--event-loop epoll 需要与 --no-gui 一起使用
</translation>
    </message>
</context>
</TS>
