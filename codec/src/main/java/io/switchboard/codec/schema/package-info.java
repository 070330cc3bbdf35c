/**
 * Users' SBE schemas as IR: what a service hands the broker so the gateway can transcode its messages.
 */
package io.switchboard.codec.schema;
