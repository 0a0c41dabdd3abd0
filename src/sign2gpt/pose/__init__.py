"""Keypoint extraction (`sign2gpt pose extract`): MediaPipe Holistic over videos and frames.

Needs the `[pose]` extra (mediapipe 0.10.21, whose wheel carries the Holistic models, and
pose-format for `.pose` files). Nothing here is imported by training or the pose model.
"""
