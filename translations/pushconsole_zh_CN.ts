<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
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
</context>
</TS>
