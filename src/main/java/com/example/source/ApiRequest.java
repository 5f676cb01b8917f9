package com.example.source;

import java.util.Map;

/**
 * One HTTP request as the API sees it.
 *
 * @param method the request method, as sent
 * @param target as sent: raw path plus optional {@code ?query}
 * @param rawPath the still percent-encoded path
 * @param rawQuery the raw query string, null if absent
 * @param headers lower-case names, first value
 * @param body the request body (empty if none)
 */
record ApiRequest(String method, String target, String rawPath, String rawQuery, Map<String, String> headers, byte[] body) {
  static ApiRequest of(String method, String target, Map<String, String> headers, byte[] body) {
    int q = target.indexOf('?');
    return new ApiRequest(method, target, q < 0 ? target : target.substring(0, q), q < 0 ? null : target.substring(q + 1),
        headers, body);
  }

  /** This request with its body, once received. */
  ApiRequest withBody(byte[] received) {
    return new ApiRequest(method, target, rawPath, rawQuery, headers, received);
  }
}
