# VidStudio for Windows: a PyInstaller one-folder bundle wrapped in an Inno Setup installer.
# Not built by CI (no Windows machine there); run on Windows 10/11 with Python 3.11+ and Inno Setup 6:
#   py -3.11 -m venv .venv; .venv\Scripts\pip install -e ".[package]"
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
# Output: dist\VidStudio-<version>-setup.exe (per-user install, Start menu entry, .vidproj association).
$ErrorActionPreference = "Stop"
$root = Resolve-Path "$PSScriptRoot\..\.."
Set-Location $root
$version = (Select-String -Path vidstudio\__init__.py -Pattern '^__version__ = "(.*)"').Matches[0].Groups[1].Value
$excluded = "torch","torchvision","torchaudio","diffusers","transformers","accelerate","triton","tkinter","pytest","ray"
$args = @("--noconfirm", "--clean", "--onedir", "--windowed", "--name", "vidstudio",
          "--icon", "packaging\windows\vidstudio.ico", "--collect-submodules", "vidstudio",
          "--collect-data", "qtawesome", "--hidden-import", "PySide6.QtSvg",
          "--add-data", "resources\examples;share\vidstudio\examples",
          "--add-data", "packaging\linux;share\vidstudio\linux")
foreach ($m in $excluded) { $args += @("--exclude-module", $m) }
.venv\Scripts\python -m PyInstaller @args packaging\linux\vidstudio_main.py
# vidstudio.ico: packaging\linux\icons\hicolor\*\apps\vidstudio.png in one file (tools/make_icons.py and Pillow).
& "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" "/DAppVersion=$version" packaging\windows\vidstudio.iss
