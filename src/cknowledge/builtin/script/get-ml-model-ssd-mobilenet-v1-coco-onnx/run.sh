#!/bin/bash
# Convert the TF frozen graph of the model dependency (CK_ML_MODEL_FILE) to ONNX once,
# with tf2onnx from the venv dependency (CK_VENV_PYTHON); export the ONNX model's env.
set -euo pipefail
if [ -z "${CK_VENV_PYTHON:-}" ]; then
  echo "no CK_VENV_PYTHON: this step needs a venv with tensorflow, tf2onnx and onnx (package tags python-venv,tf2onnx)" >&2
  exit 2
fi
out="$CK_WORK_DIR/model.onnx"
"$CK_VENV_PYTHON" -m tf2onnx.convert --graphdef "$CK_ML_MODEL_FILE" \
  --inputs "$CK_ML_MODEL_INPUTS" --outputs "$CK_ML_MODEL_OUTPUTS" \
  --opset "$CK_ONNX_OPSET" --output "$out"
sha=$("$CK_VENV_PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$out")
{
  echo "CK_ML_MODEL_FILE=$out"
  echo "CK_ML_MODEL_FILE_SHA256=$sha"
  echo "CK_ML_MODEL_FORMAT=onnx"
  echo "CK_ML_MODEL_ONNX_OPSET=$CK_ONNX_OPSET"
  echo "CK_ML_MODEL_SOURCE_FILE=$CK_ML_MODEL_FILE"
  for key in NAME INPUTS OUTPUTS INPUT_LAYOUT INPUT_DTYPE IMAGE_SIZE BOX_FORMAT DATASET CLASSES PERSON_CLASS; do
    var="CK_ML_MODEL_$key"
    echo "$var=${!var:-}"
  done
} >> "$CK_ENV_OUT"
