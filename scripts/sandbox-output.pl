#!/usr/bin/perl
# scripts/sandbox-output.pl CAP NAME NOTES: the output cap of scripts/sandbox.sh, a filter
# on one of a program's outputs (NAME: stdout or stderr), outside the sandbox's limits.
# At most CAP bytes of stdin are passed on, as they come; the rest is read and dropped, so
# the program keeps running (it is never killed by the file-size limit for what it
# prints), and a last line says how much was dropped. NOTES (a file, or "" for none) gets
# one line saying so, for the report.
use strict; use warnings;

my ($cap, $name, $notes) = @ARGV;
die "usage: sandbox-output.pl CAP NAME NOTES\n" unless defined $notes;
binmode STDIN; binmode STDOUT;
my $n = 0;
while (1) {
    my $got = sysread(STDIN, my $buf, 65536);
    last unless $got;
    if ($n < $cap) {
        my $w = substr($buf, 0, $cap - $n);
        while (length $w) { my $m = syswrite(STDOUT, $w); last unless $m; substr($w, 0, $m) = '' }
    }
    $n += $got;
}
exit 0 unless $n > $cap;
syswrite(STDOUT, sprintf("\n[sandbox: %d bytes of its %s dropped: the grader keeps the first %d of each output; the program went on running]\n",
    $n - $cap, $name, $cap));
if ($notes ne '' && open my $f, '>>', $notes) {
    print $f "output cut: its $name went past the $cap bytes the grader keeps; the rest was dropped, the program went on running\n";
    close $f;
}
