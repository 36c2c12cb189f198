<?php
// Drives one PushConsole\PushClient for tst_phpclient: reads one JSON command
// per line on stdin, runs it, writes one JSON result per line on stdout.
// Usage: php push_driver.php ADDRESS [TIMEOUT_S] [MAX_LINE]
//   {"op":"push","uid":U,"payload":P}         -> {"reply":"ok"}
//   {"op":"many","pushes":[[U,P],...]}         -> {"replies":[...]}
//   {"op":"seq","count":N,"uids":[U1,U2,...]}  -> {"replies":[...]}  push i goes to U(i mod k), {"seq":i}
//   {"op":"line","uid":U,"payload":P}         -> {"line":"..."}    (nothing sent)
//   {"op":"close"}                             -> {"closed":true}
// Errors: {"exception":CLASS,"message":...,"replies":[...],"unanswered":n,"maySent":b,"index":i}

require __DIR__ . '/../../clients/php/PushClient.php';

use PushConsole\PushClient;
use PushConsole\PushException;
use PushConsole\PushRefusedException;

$client = new PushClient($argv[1], 3.0, (float) ($argv[2] ?? 5), (int) ($argv[3] ?? 1048576));

while (($command = fgets(STDIN)) !== false) {
    $c = json_decode($command, true, 512, JSON_THROW_ON_ERROR);
    try {
        switch ($c['op']) {
            case 'push':
                $result = ['reply' => $client->push($c['uid'], $c['payload'] ?? [])];
                break;
            case 'many':
                $result = ['replies' => $client->pushMany($c['pushes'])];
                break;
            case 'seq':
                $uids = $c['uids'];
                $pushes = (function () use ($c, $uids) {
                    for ($i = 0; $i < $c['count']; ++$i) {
                        yield [$uids[$i % count($uids)], ['seq' => $i]];
                    }
                })();
                $result = ['replies' => $client->pushMany($pushes)];
                break;
            case 'line':
                $result = ['line' => PushClient::line($c['uid'], $c['payload'] ?? [])];
                break;
            case 'close':
                $client->close();
                $result = ['closed' => true];
                break;
            default:
                $result = ['exception' => 'unknown op'];
        }
    } catch (\Throwable $e) {
        $result = ['exception' => get_class($e), 'message' => $e->getMessage()];
        if ($e instanceof PushException) {
            $result += ['replies' => $e->replies, 'unanswered' => $e->unanswered,
                'maySent' => $e->mayHaveBeenSent()];
        }
        if ($e instanceof PushRefusedException) {
            $result['index'] = $e->index;
        }
    }
    fwrite(STDOUT, json_encode($result, JSON_UNESCAPED_UNICODE) . "\n");
}
