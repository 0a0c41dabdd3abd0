"""Keypoint input for `model.spatial.kind: pose`: the joint layout, file readers, transform."""

from sign2gpt.data.keypoints.files import Keypoints, is_keypoint_source, read_keypoints
from sign2gpt.data.keypoints.layout import NUM_JOINTS, PARTS

__all__ = ["NUM_JOINTS", "PARTS", "Keypoints", "is_keypoint_source", "read_keypoints"]
