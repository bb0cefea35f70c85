#!/usr/bin/env bash
# VidStudio for macOS: a PyInstaller .app bundle (with the .vidproj document type) in a .dmg.
# Not built by CI (no Mac there); run on macOS 13+ with Python 3.11+ from python.org or Homebrew:
#   python3.11 -m venv .venv && .venv/bin/pip install -e ".[package]"
#   bash packaging/macos/build.sh            # dist/VidStudio.app and dist/VidStudio-<version>.dmg
# Signing and notarisation need an Apple Developer ID: set CODESIGN_ID (and NOTARY_PROFILE for notarytool).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' vidstudio/__init__.py)
excluded=(torch torchvision torchaudio diffusers transformers accelerate triton tkinter pytest ray)
args=(--noconfirm --clean --windowed --name VidStudio --osx-bundle-identifier io.github.vidstudio.VidStudio
      --icon packaging/macos/vidstudio.icns --collect-submodules vidstudio --collect-data qtawesome
      --hidden-import PySide6.QtSvg
      --add-data resources/examples:share/vidstudio/examples --add-data packaging/linux:share/vidstudio/linux)
for m in "${excluded[@]}"; do args+=(--exclude-module "$m"); done
# vidstudio.icns: made from packaging/linux/icons/hicolor/512x512/apps/vidstudio.png with Pillow.
.venv/bin/python -m PyInstaller "${args[@]}" packaging/linux/vidstudio_main.py
# The document type, so that Finder opens .vidproj files with VidStudio.
/usr/libexec/PlistBuddy -c "Merge packaging/macos/document-types.plist" dist/VidStudio.app/Contents/Info.plist
/usr/libexec/PlistBuddy -c "Set :CFBundleShortVersionString $version" dist/VidStudio.app/Contents/Info.plist
if [[ -n "${CODESIGN_ID:-}" ]]; then
  codesign --deep --force --options runtime --sign "$CODESIGN_ID" dist/VidStudio.app
fi
hdiutil create -volname VidStudio -srcfolder dist/VidStudio.app -ov -format UDZO "dist/VidStudio-$version.dmg"
if [[ -n "${NOTARY_PROFILE:-}" ]]; then
  xcrun notarytool submit "dist/VidStudio-$version.dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "dist/VidStudio-$version.dmg"
fi
