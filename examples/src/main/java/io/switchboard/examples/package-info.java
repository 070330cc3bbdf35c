/**
 * The demo services and their schema ({@code examples.xml}): what {@code switchboard broker --demo} runs, and what
 * the system tests call across real processes.
 */
package io.switchboard.examples;
