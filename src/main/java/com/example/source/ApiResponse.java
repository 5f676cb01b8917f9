package com.example.source;

import java.util.ArrayList;
import java.util.List;

/** One HTTP response: status, JSON body and extra headers (Date, Content-Type, Content-Length are added by the server). */
final class ApiResponse {
  final int status;
  final byte[] body;
  final List<String[]> headers = new ArrayList<>();

  ApiResponse(int status, byte[] body) {
    this.status = status;
    this.body = body;
  }

  static ApiResponse error(int status, String message) {
    return new ApiResponse(status, Json.error(message));
  }

  ApiResponse header(String name, String value) {
    headers.add(new String[] {name, value});
    return this;
  }
}
