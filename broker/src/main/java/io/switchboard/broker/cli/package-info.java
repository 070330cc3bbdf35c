/**
 * The command-line tool, a client of the gateway socket like any other language's: {@code call | stream | publish |
 * listen | reply | services | describe | stats} ({@link io.switchboard.broker.cli.GatewayCommand} and one class per
 * command), and the operator commands {@code stat | top | connections | monitor | errors | metrics}
 * ({@link io.switchboard.broker.cli.OperatorCommand}), which also read the broker's files in the socket directory
 * ({@link io.switchboard.broker.cli.BrokerFiles}: broker.info, cnc.dat, the peers' counters files, errors.dat).
 */
package io.switchboard.broker.cli;
