<?php
// Push Console backend client: pushes over the gateway's push port (one JSON
// line per push, one reply line each) on one persistent, pipelined TCP
// connection. PHP 8.1+, standard extensions only (streams, json).
//
//   require_once 'PushClient.php';
//   $push = new PushConsole\PushClient('tcp://127.0.0.1:5678');
//   $reply = $push->push($row['uid'], $row);        // "ok", "fail" or "queued"
//
// docs/clients.md describes the API, the errors and what is retried.

declare(strict_types=1);

namespace PushConsole;

/** Every error of this client. */
class PushException extends \RuntimeException
{
    /**
     * @param list<string> $replies replies read before the error, in order
     *        (pushMany: the first count($replies) pushes are settled)
     * @param int $unanswered pushes after those that were written, so may have
     *        been delivered, without a reply; the rest were never sent
     */
    public function __construct(
        string $message,
        public readonly array $replies = [],
        public readonly int $unanswered = 0,
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    /** Whether a push may have been delivered although no reply said so. */
    public function mayHaveBeenSent(): bool
    {
        return $this->unanswered > 0;
    }
}

/** The connection failed or broke; nothing is retried once it may have been sent. */
class PushConnectionException extends PushException
{
}

/**
 * The gateway answered "error: <reason>" (getMessage() is that line). The
 * connection stays usable. With pushMany, every push was answered: $replies
 * holds all the replies and $index is the first push refused.
 */
class PushRefusedException extends PushException
{
    public function __construct(string $message, array $replies, public readonly int $index)
    {
        parent::__construct($message, $replies);
    }
}

final class PushClient
{
    public const DEFAULT_ADDRESS = 'tcp://127.0.0.1:5678';

    // Pushes in flight on the connection. The gateway stops reading a
    // connection with 4096 unread replies; staying far below that means our
    // writes always drain, so writing and reading in turn cannot deadlock.
    private const WINDOW = 1024;
    private const WRITE_CHUNK = 262144;
    private const READ_CHUNK = 65536;
    private const MAX_REPLY = 65536;

    /** @var resource|null */
    private $socket = null;
    private string $in = '';
    private int $inPos = 0;

    /**
     * @param string $address tcp://HOST:PORT (or HOST:PORT) of the push port
     * @param float $connectTimeout seconds to connect
     * @param float $timeout seconds to wait for a reply (or for the gateway to
     *        take our bytes) before giving up on the connection
     * @param int $maxLine the gateway's --max-line; longer pushes are refused here
     */
    public function __construct(
        private string $address = self::DEFAULT_ADDRESS,
        private float $connectTimeout = 3.0,
        private float $timeout = 5.0,
        private int $maxLine = 1048576,
    ) {
        if (!str_contains($this->address, '://')) {
            $this->address = 'tcp://' . $this->address;
        }
        if ($connectTimeout <= 0 || $timeout <= 0 || $maxLine <= 0) {
            throw new \InvalidArgumentException('timeouts and maxLine must be positive');
        }
    }

    public function __destruct()
    {
        $this->close();
    }

    /**
     * Pushes $payload to $uid (a uid, a list of uids, or "*" for everyone).
     * Returns "ok" (delivered), "fail" (not online) or "queued" (stored for
     * later, with --offline-ttl). Throws PushRefusedException for the
     * gateway's "error: ..." and PushConnectionException when the connection
     * fails; InvalidArgumentException for a payload that cannot be sent.
     */
    public function push(string|int|array $uid, array|string $payload = []): string
    {
        return $this->pushLines([self::line($uid, $payload)])[0];
    }

    /**
     * Pipelines many pushes on the connection: $pushes holds [$uid, $payload]
     * pairs. Returns the replies in the same order. Every push is built (and
     * checked) before the first is sent. A refused push does not stop the
     * others: all are answered, then PushRefusedException carries all replies.
     *
     * @param iterable<array{0: string|int|array, 1?: array|string}> $pushes
     * @return list<string>
     */
    public function pushMany(iterable $pushes): array
    {
        $lines = [];
        foreach ($pushes as $push) {
            if (!is_array($push) || !array_key_exists(0, $push)) {
                throw new \InvalidArgumentException('each push is [$uid, $payload]');
            }
            $lines[] = self::line($push[0], $push[1] ?? []);
        }
        return $lines ? $this->pushLines($lines) : [];
    }

    /**
     * The request line (without its "\n") for a push: an array payload is
     * json_encode()d exactly as the seed's callback did (so a row that has its
     * uid goes out byte for byte as before), with "uid" first when it has
     * none; a string payload must be a JSON object on one line and is sent as
     * it is, with "uid" inserted first when it has none. A payload whose own
     * uid differs from $uid is refused rather than silently re-addressed.
     */
    public static function line(string|int|array $uid, array|string $payload = []): string
    {
        if (is_array($payload)) {
            if (array_key_exists('uid', $payload)) {
                self::checkSameUid($payload['uid'], $uid);
            } else {
                $payload = ['uid' => $uid] + $payload;
            }
            return self::encode($payload);
        }
        if (strpbrk($payload, "\r\n") !== false) {
            throw new \InvalidArgumentException('the payload must be on one line (the gateway forwards it as it is)');
        }
        try {
            $object = json_decode($payload, false, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new \InvalidArgumentException('the payload is not valid JSON: ' . $e->getMessage(), 0, $e);
        }
        if (!$object instanceof \stdClass) {
            throw new \InvalidArgumentException('the payload must be a JSON object');
        }
        if (property_exists($object, 'uid')) {
            self::checkSameUid($object->uid, $uid);
            return $payload;
        }
        $open = strpos($payload, '{');
        $rest = substr($payload, $open + 1);
        $empty = str_starts_with(ltrim($rest, " \t"), '}');
        return substr($payload, 0, $open) . '{"uid":' . self::encode($uid) . ($empty ? '' : ',') . $rest;
    }

    /** Closes the connection; the next push opens a new one. */
    public function close(): void
    {
        if ($this->socket !== null) {
            fclose($this->socket);
            $this->socket = null;
        }
        $this->in = '';
        $this->inPos = 0;
    }

    /** @param list<string> $lines */
    private function pushLines(array $lines): array
    {
        foreach ($lines as $i => $line) {
            if (strlen($line) > $this->maxLine) {
                throw new \InvalidArgumentException(sprintf(
                    'push %d is %d bytes, over the gateway\'s line limit of %d', $i, strlen($line), $this->maxLine));
            }
        }
        $replies = $this->exchange($lines);
        foreach ($replies as $i => $reply) {
            if (str_starts_with($reply, 'error: ')) {
                if ($reply === 'error: line too long') {
                    $this->close(); // the gateway closes it too
                }
                throw new PushRefusedException($reply, $replies, $i);
            }
        }
        return $replies;
    }

    /**
     * Writes the lines, pipelined, and reads one reply per line. A connection
     * found closed before anything was written is opened again once; once a
     * byte was written nothing is sent twice.
     *
     * @param list<string> $lines
     * @return list<string>
     */
    private function exchange(array $lines): array
    {
        $count = count($lines);
        $sent = 0; // lines handed to write()
        $written = 0; // lines that may have reached the gateway
        $replies = [];
        $reopened = !$this->isAlive();
        if ($reopened) {
            $this->open([]);
        }
        try {
            while (count($replies) < $count) {
                if ($sent < $count && $sent - count($replies) <= self::WINDOW / 2) {
                    $first = $sent;
                    $batch = '';
                    while ($sent < $count && $sent - count($replies) < self::WINDOW
                        && strlen($batch) < self::WRITE_CHUNK) {
                        $batch .= $lines[$sent++] . "\n";
                    }
                    try {
                        $this->write($batch);
                        $written = $sent;
                    } catch (PushConnectionException $e) {
                        if ($e->unanswered > 0) {
                            $written = $sent; // part of the batch went out
                            throw $e;
                        }
                        // A stale connection that fails the very first write
                        // took nothing: safe to send on a new one, once.
                        if ($first !== 0 || $reopened) {
                            throw $e;
                        }
                        $reopened = true;
                        $sent = 0;
                        $this->open([]);
                    }
                    continue;
                }
                $replies[] = $this->readLine();
            }
        } catch (PushConnectionException $e) {
            $this->close();
            throw new PushConnectionException($e->getMessage(), $replies, $written - count($replies), $e);
        }
        return $replies;
    }

    /**
     * Whether the connection is open and still in step: a closed peer, an
     * error or bytes nobody asked for (idle, there is nothing to read) mean
     * it is not.
     */
    private function isAlive(): bool
    {
        if ($this->socket === null) {
            return false;
        }
        $read = [$this->socket];
        $write = $except = null;
        $ready = @stream_select($read, $write, $except, 0);
        if ($ready === 0 && $this->inPos === strlen($this->in)) {
            return true;
        }
        $this->close();
        return false;
    }

    private function open(array $replies): void
    {
        $this->close();
        $context = stream_context_create(['socket' => ['tcp_nodelay' => true]]);
        $socket = @stream_socket_client(
            $this->address, $errno, $errstr, $this->connectTimeout, STREAM_CLIENT_CONNECT, $context);
        if ($socket === false) {
            throw new PushConnectionException(
                sprintf('cannot connect to %s: %s', $this->address, $errstr ?: "error $errno"), $replies);
        }
        stream_set_blocking($socket, false);
        stream_set_read_buffer($socket, 0); // we buffer ourselves
        $this->socket = $socket;
    }

    /** Waits at most the timeout for the socket; false on timeout. */
    private function wait(bool $forWrite): bool
    {
        $read = $forWrite ? null : [$this->socket];
        $write = $forWrite ? [$this->socket] : null;
        $except = null;
        $seconds = (int) $this->timeout;
        $micro = (int) round(($this->timeout - $seconds) * 1e6);
        $ready = @stream_select($read, $write, $except, $seconds, $micro);
        if ($ready === false) {
            throw new PushConnectionException('waiting for the gateway failed');
        }
        return $ready > 0;
    }

    /** Throws with $unanswered = 1 once any byte was taken, else 0. */
    private function write(string $bytes): void
    {
        $offset = 0;
        $length = strlen($bytes);
        while (true) {
            error_clear_last();
            $written = @fwrite($this->socket, $offset === 0 ? $bytes : substr($bytes, $offset));
            if ($written === false) {
                $error = error_get_last()['message'] ?? 'write failed';
                throw new PushConnectionException(
                    'connection to the gateway lost: ' . $error, [], $offset ? 1 : 0);
            }
            $offset += $written;
            if ($offset >= $length) {
                return;
            }
            // The socket buffer is full: wait until the gateway takes more.
            if (!$this->wait(true)) {
                throw new PushConnectionException(
                    sprintf('the gateway took no data for %g s', $this->timeout), [], $offset ? 1 : 0);
            }
        }
    }

    private function readLine(): string
    {
        while (true) {
            $newline = strpos($this->in, "\n", $this->inPos);
            if ($newline !== false) {
                $line = substr($this->in, $this->inPos, $newline - $this->inPos);
                $this->inPos = $newline + 1;
                if ($this->inPos === strlen($this->in)) {
                    $this->in = '';
                    $this->inPos = 0;
                }
                return rtrim($line, "\r");
            }
            if (strlen($this->in) - $this->inPos > self::MAX_REPLY) {
                throw new PushConnectionException('the gateway sent a reply line that never ends');
            }
            if (!$this->wait(false)) {
                throw new PushConnectionException(sprintf('no reply from the gateway within %g s', $this->timeout));
            }
            $data = @fread($this->socket, self::READ_CHUNK);
            if ($data === false || ($data === '' && feof($this->socket))) {
                throw new PushConnectionException('the gateway closed the connection before replying');
            }
            if ($this->inPos > 0) {
                $this->in = substr($this->in, $this->inPos);
                $this->inPos = 0;
            }
            $this->in .= $data;
        }
    }

    private static function encode(mixed $value): string
    {
        try {
            return json_encode($value, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new \InvalidArgumentException('cannot encode the push as JSON: ' . $e->getMessage(), 0, $e);
        }
    }

    /** The gateway's view of a uid: 1001 and "1001" are the same. */
    private static function uidKey(mixed $uid): mixed
    {
        if (is_int($uid)) {
            return (string) $uid;
        }
        if (is_array($uid)) {
            return array_map([self::class, 'uidKey'], array_values($uid));
        }
        return $uid;
    }

    private static function checkSameUid(mixed $inPayload, string|int|array $uid): void
    {
        if (self::uidKey($inPayload) !== self::uidKey($uid)) {
            throw new \InvalidArgumentException(sprintf(
                'the payload\'s uid %s is not the uid %s it is pushed to',
                json_encode($inPayload), json_encode($uid)));
        }
    }
}
