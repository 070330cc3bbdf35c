/**
 * The command-line tool ({@code switchboard call|stream|publish|listen|services|describe|stats}), a client of the
 * gateway socket like any other language's.
 */
package io.switchboard.broker.cli;
