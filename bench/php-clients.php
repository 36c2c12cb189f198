<?php
// One timed run for bench/php-clients.sh: pushes the seed's row to uid
// "bench" for SECONDS and prints pushes per second.
//   php bench/php-clients.php MODE PORT SECONDS
// MODE: many  PushClient::pushMany, 1000 pushes a call, one connection
//       push  PushClient::push, one push a call, one persistent connection
//       seed  the seed article's callback: a TCP connection per push
require __DIR__ . '/../clients/php/PushClient.php';

[, $mode, $port, $seconds] = $argv;
$row = ['uid' => 'bench', 'order_sn' => 'B20200113001', 'status' => '锁已关闭', 'fee' => 1.5];
$deadline = hrtime(true) + (int) ((float) $seconds * 1e9);
$started = hrtime(true);
$count = 0;

switch ($mode) {
    case 'many':
        $client = new PushConsole\PushClient("tcp://127.0.0.1:$port");
        $batch = array_fill(0, 1000, [$row['uid'], $row]);
        while (hrtime(true) < $deadline) {
            foreach ($client->pushMany($batch) as $reply) {
                if ($reply !== 'ok') {
                    exit("unexpected reply $reply\n");
                }
            }
            $count += count($batch);
        }
        break;
    case 'push':
        $client = new PushConsole\PushClient("tcp://127.0.0.1:$port");
        while (hrtime(true) < $deadline) {
            for ($i = 0; $i < 100; ++$i) {
                if (($reply = $client->push($row['uid'], $row)) !== 'ok') {
                    exit("unexpected reply $reply\n");
                }
            }
            $count += 100;
        }
        break;
    case 'seed':
        while (hrtime(true) < $deadline) {
            for ($i = 0; $i < 100; ++$i) {
                // The seed's callback as it is (its Log::notice aside).
                $client = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errmsg, 3);
                fwrite($client, json_encode($row)."\n");
                if (($reply = fread($client, 8192)) !== "ok\n") {
                    exit("unexpected reply $reply\n");
                }
                fclose($client);
            }
            $count += 100;
        }
        break;
    default:
        exit("unknown mode $mode\n");
}
printf("%.0f\n", $count / ((hrtime(true) - $started) / 1e9));
