#!/usr/bin/perl
# scripts/sandbox-output.pl CAP NOTES FSIZE CPU -- CMD ARGS...: runs CMD (scripts/sandbox.sh
# puts the limits and the sandbox inside CMD, this stays outside them) with its stdout and
# stderr through pipes. At most CAP bytes of each are passed on; the rest is read and
# dropped, so the program keeps running (it is never killed by the file-size limit for
# what it prints), and a last line on that stream says how much was dropped. When CMD
# ended by SIGXCPU or SIGXFSZ (a signal, or 128+N from bwrap), a last stderr line names
# the limit. Each of these is also appended to NOTES (a file, or "" for none).
# Exit: CMD's status, 128+N for signal N (as a shell reports it). Grandchildren that keep
# the pipes open after CMD ended get 2 s, then are no longer read.
use strict; use warnings; use POSIX ();

my ($cap, $notes, $fsize, $cpu, $dashes, @cmd) = @ARGV;
die "usage: sandbox-output.pl CAP NOTES FSIZE CPU -- CMD ARGS...\n" unless defined $dashes && $dashes eq '--' && @cmd;
pipe(my $or, my $ow) or die "pipe: $!";
pipe(my $er, my $ew) or die "pipe: $!";
my $pid = fork // die "fork: $!";
if (!$pid) {
    close $or; close $er;
    POSIX::dup2(fileno $ow, 1); POSIX::dup2(fileno $ew, 2);
    close $ow; close $ew;
    { no warnings "exec"; exec { $cmd[0] } @cmd; }
    print STDERR "sandbox: cannot run $cmd[0]: $!\n";
    POSIX::_exit(126);
}
close $ow; close $ew;
binmode STDOUT; binmode STDERR;
my @s = ({ in => $or, out => \*STDOUT, n => 0, name => 'stdout', open => 1 },
         { in => $er, out => \*STDERR, n => 0, name => 'stderr', open => 1 });
my ($status, $ended);
while (grep { $_->{open} } @s) {
    my $rin = '';
    vec($rin, fileno $_->{in}, 1) = 1 for grep { $_->{open} } @s;
    my $k = select(my $rout = $rin, undef, undef, 0.2);
    if ($k > 0) {
        for my $t (grep { $_->{open} && vec($rout, fileno $_->{in}, 1) } @s) {
            my $got = sysread($t->{in}, my $buf, 65536);
            if (!$got) { $t->{open} = 0; next }
            if ($t->{n} < $cap) {
                my $w = substr($buf, 0, $cap - $t->{n});
                while (length $w) { my $m = syswrite($t->{out}, $w); last unless $m; substr($w, 0, $m) = '' }
            }
            $t->{n} += $got;
        }
    }
    if (!defined $status) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) { $status = $?; $ended = time }
    } elsif (time - $ended > 2) { last }
}
if (!defined $status) { waitpid($pid, 0); $status = $? }
my $rc = ($status & 127) ? 128 + ($status & 127) : $status >> 8;

my @notes;
for my $t (@s) {
    next unless $t->{n} > $cap;
    my $line = sprintf '%d bytes of its %s dropped: the grader keeps the first %d of each output; the program went on running',
        $t->{n} - $cap, $t->{name}, $cap;
    syswrite($t->{out}, "\n[sandbox: $line]\n");
    push @notes, "output cut: its $t->{name} went past the $cap bytes the grader keeps; the rest was dropped, the program went on running";
}
my %limit = (24 => "SIGXCPU: it used up its CPU-time limit ($cpu s of CPU)",
             25 => "SIGXFSZ: it wrote a file past the file-size limit ($fsize bytes)");
if ($rc > 128 && $limit{$rc - 128}) {
    my $line = "killed by $limit{$rc - 128}, a limit of the grader's sandbox, not a crash";
    syswrite(STDERR, "[sandbox: $line]\n");
    push @notes, $line;
}
if (@notes && $notes ne '' && open my $f, '>>', $notes) { print $f "$_\n" for @notes; close $f }
exit $rc;
