/**
 * Subjects and subscription patterns: dot-separated tokens, {@code *} for one token, {@code >} for the rest.
 */
package io.switchboard.codec.subject;
