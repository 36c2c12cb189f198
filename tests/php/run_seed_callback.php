<?php
// Runs the seed article's callback code (seed_callback.inc, copied verbatim
// from the article) against a test gateway. Only the port number is changed,
// because tests listen on a free port instead of 5678.
// Usage: php run_seed_callback.php ROW_JSON PORT
// Prints what the callback logs on stdout and the line it sent on stderr.

class Log
{
    public static function notice($message)
    {
        echo $message;
    }
}

$row = json_decode($argv[1], true);
$code = file_get_contents(__DIR__ . '/seed_callback.inc');
fwrite(STDERR, json_encode($row));
eval(str_replace('5678', $argv[2], $code));
