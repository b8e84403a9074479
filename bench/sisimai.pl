#!/usr/bin/perl
# Sisimai side of bench/parse.sh: parse each file named on the command line with Debian's
# libsisimai-perl (Sisimai->rise in 5.x, Sisimai->make in 4.x), one call per file, in one
# process, and print "messages seconds" on stdout. Nothing of Sisimai is kept or copied.
use strict;
use warnings;
use Sisimai;
use Time::HiRes qw(time);

my $call = Sisimai->can('rise') ? 'rise' : 'make';
my ($n, $found) = (0, 0);
my $t0 = time;
for my $file (@ARGV) {
    my $v = Sisimai->$call($file, 'delivered' => 1, 'vacation' => 1);
    $n++;
    $found += scalar @$v if $v;
}
printf "%d %.6f %d\n", $n, time - $t0, $found;
